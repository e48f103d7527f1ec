import type { IndexRecord } from '../index/index-record.ts'

/**
 * Where an index record appears in the mounted tree: decoded path segments below
 * the mount point (`npm:tarball:lodash/-/lodash-4.17.21.tgz` → `npm/lodash/-/lodash-4.17.21.tgz`),
 * the inverse of `fs-paths.ts` for each format's keys (`formats/<f>/index.ts`).
 * Undefined for what the tree does not show: documents the gateway rewrites
 * (packuments, simple pages, Cargo's config and index files), whose stored bytes
 * are not the bytes a reader would get.
 */
export function treePathOf (record: Pick<IndexRecord, 'key' | 'kind'>): string[] | undefined {
  const { key, kind } = record
  const colon = key.indexOf(':')
  const format = key.slice(0, colon)
  const rest = key.slice(colon + 1)
  let segments: string[] | undefined
  switch (format) {
    case 'npm':
      segments = rest.startsWith('tarball:') ? ['npm', ...rest.slice('tarball:'.length).split('/')] : undefined
      break
    case 'pypi':
      segments = rest.startsWith('file:') ? ['pypi', 'files', ...rest.slice('file:'.length).split('/')] : undefined
      break
    case 'apt': {
      const [name, path] = splitOnce(rest, ':')
      segments = path === undefined ? undefined : ['apt', name, ...path.split('/')]
      break
    }
    case 'oci':
      segments = ociPath(rest, kind)
      break
    case 'cargo': {
      const crate = /^([^:]+):crate:(.+?)-(\d+\.\d+\.\d+.*)$/.exec(rest)
      segments = crate === null ? undefined : ['cargo', crate[1]!, 'api', 'v1', 'crates', crate[2]!, crate[3]!, 'download']
      break
    }
    case 'dds': {
      const pkg = /^([^:]+):pkg:([^@]+)@(.+)$/.exec(rest)
      segments = pkg === null ? undefined : ['dds', pkg[1]!, 'pkg', pkg[2]!, pkg[3]!, 'sdist.tar.gz']
      break
    }
  }
  // a key a peer made up must not climb out of its place in the tree
  return segments?.every(isSafeName) === true ? segments : undefined
}

/** `docker.io/library/alpine@sha256:…` (a blob when an artifact, else a manifest) or `…:3.19` (a tag). */
function ociPath (rest: string, kind: string): string[] | undefined {
  const slash = rest.indexOf('/')
  if (slash < 0) return undefined
  const registry = rest.slice(0, slash)
  const at = rest.indexOf('@', slash)
  if (at >= 0) {
    const repository = rest.slice(slash + 1, at).split('/')
    const [algorithm, hex] = splitOnce(rest.slice(at + 1), ':')
    if (hex === undefined) return undefined
    return kind === 'artifact'
      ? ['oci', registry, ...repository, 'blobs', algorithm, hex]
      : ['oci', registry, ...repository, 'manifests', `${algorithm}:${hex}`]
  }
  const tag = rest.lastIndexOf(':')
  if (tag < slash) return undefined
  return ['oci', registry, ...rest.slice(slash + 1, tag).split('/'), 'manifests', rest.slice(tag + 1)]
}

function splitOnce (s: string, separator: string): [string, string | undefined] {
  const i = s.indexOf(separator)
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)]
}

/** One path segment a directory may hold: no separators, no `.`/`..`, no NUL, at most NAME_MAX bytes. */
export function isSafeName (name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\u0000]/.test(name) && Buffer.byteLength(name) <= 255
}
