import { createHash } from 'node:crypto'
import type { PluginApi } from '../index.ts'

/** A manifest or index as the registry sent it: the bytes (never re-serialized), its media type and digest (the one it was asked by, else its sha256). */
export interface Manifest {
  bytes: Uint8Array
  mediaType: string
  digest: string
}

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
]

/**
 * Reads a manifest's media type from its own `mediaType` field (an OCI manifest
 * without one is an index if it lists `manifests`); a manifest fetched by digest
 * must hash to it.
 */
export function parseManifest (bytes: Uint8Array, expected: { algorithm: 'sha256' | 'sha512', hex: string } | undefined, api: PluginApi): Manifest {
  if (expected !== undefined) {
    const actual = createHash(expected.algorithm).update(bytes).digest('hex')
    if (actual !== expected.hex) throw new api.errors.UpstreamError(`the manifest's bytes hash to ${expected.algorithm}:${actual}, not the ${expected.algorithm}:${expected.hex} asked for`)
  }
  let json: { mediaType?: unknown, manifests?: unknown, schemaVersion?: unknown }
  try {
    json = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw new api.errors.UpstreamError('the upstream sent a manifest that is not JSON')
  }
  if (typeof json !== 'object' || json === null || json.schemaVersion !== 2) throw new api.errors.UpstreamError('the upstream sent a manifest that is not schema version 2')
  const mediaType = typeof json.mediaType === 'string'
    ? json.mediaType
    : Array.isArray(json.manifests) ? MANIFEST_TYPES[0]! : MANIFEST_TYPES[2]!
  const digest = expected === undefined ? `sha256:${createHash('sha256').update(bytes).digest('hex')}` : `${expected.algorithm}:${expected.hex}`
  return { bytes, mediaType, digest }
}
