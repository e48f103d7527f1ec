/** What an OCI distribution path names: `/<name>/manifests/<reference>` or `/<name>/blobs/<digest>`. */
export interface OciPath {
  /** The registry's key in `DPM_OCI_UPSTREAMS` (`docker.io`). */
  registry: string
  /** The repository on that registry (`library/alpine`). */
  repository: string
  kind: 'manifests' | 'blobs'
  /** A tag, or a digest (`sha256:<hex>`). */
  reference: string
  digest?: { algorithm: 'sha256' | 'sha512', hex: string }
}

/** The distribution spec's repository path component, and its tag and digest grammars. */
const COMPONENT = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^(sha256):([a-f0-9]{64})$|^(sha512):([a-f0-9]{128})$/
/** Docker's rule: a first segment with a dot or a colon, or `localhost`, names a registry. */
const looksLikeHost = (segment: string): boolean => segment.includes('.') || segment.includes(':') || segment === 'localhost'

export type PathError = 'NAME_INVALID' | 'NAME_UNKNOWN' | 'TAG_INVALID' | 'DIGEST_INVALID' | 'UNSUPPORTED'

/**
 * Parses a path below `/v2` into what it names, or the distribution spec's error
 * code for it. The registry comes from `?ns=` (a containerd mirror), else from a
 * first segment that is a host, else it is `docker.io`, whose one-segment names
 * are `library/` ones.
 */
export function parseOciPath (segments: string[], ns: string | null, registries: Set<string>): OciPath | PathError {
  if (segments.length < 3) return 'UNSUPPORTED'
  const kind = segments.at(-2)
  if (kind !== 'manifests' && kind !== 'blobs') return 'UNSUPPORTED'
  const reference = segments.at(-1)!
  let name = segments.slice(0, -2)
  let registry = ns ?? 'docker.io'
  if (ns === null && name.length > 1 && looksLikeHost(name[0]!)) {
    registry = name[0]!
    name = name.slice(1)
  }
  if (!registries.has(registry)) return 'NAME_UNKNOWN'
  if (name.length === 0 || name.join('/').length > 255 || !name.every((c) => COMPONENT.test(c))) return 'NAME_INVALID'
  if (registry === 'docker.io' && name.length === 1) name = ['library', name[0]!]

  const digest = DIGEST.exec(reference)
  if (digest !== null) {
    const algorithm = (digest[1] ?? digest[3]) as 'sha256' | 'sha512'
    return { registry, repository: name.join('/'), kind, reference, digest: { algorithm, hex: digest[2] ?? digest[4]! } }
  }
  if (kind === 'blobs' || reference.includes(':')) return 'DIGEST_INVALID'
  if (!TAG.test(reference)) return 'TAG_INVALID'
  return { registry, repository: name.join('/'), kind, reference }
}
