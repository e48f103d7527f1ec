const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/

interface Descriptor { digest?: unknown }

/**
 * The keys a stored manifest names, in its own repository: an index's manifests,
 * an image manifest's config and layers. A descriptor without a valid digest,
 * or bytes that are not a JSON manifest, name nothing. A `subject` is not
 * followed: a signature pinned does not keep the image it signs.
 */
export function manifestReferences (key: string, bytes: Uint8Array): string[] {
  let manifest: { manifests?: unknown, config?: unknown, layers?: unknown }
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return []
  }
  if (typeof manifest !== 'object' || manifest === null) return []
  const descriptors = [
    ...Array.isArray(manifest.manifests) ? manifest.manifests : [],
    ...manifest.config === undefined ? [] : [manifest.config],
    ...Array.isArray(manifest.layers) ? manifest.layers : []
  ] as Descriptor[]
  const repository = repositoryOf(key)
  const digests = descriptors.map((d) => d?.digest).filter((d): d is string => typeof d === 'string' && DIGEST.test(d))
  return [...new Set(digests)].map((digest) => `${repository}@${digest}`)
}

/** `oci:<registry>/<repository>` of a manifest's key, by tag (`…:<tag>`) or by digest (`…@sha256:<hex>`). */
function repositoryOf (key: string): string {
  const at = key.indexOf('@')
  if (at >= 0) return key.slice(0, at)
  const colon = key.lastIndexOf(':')
  return colon > key.lastIndexOf('/') ? key.slice(0, colon) : key
}
