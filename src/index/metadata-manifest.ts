import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import * as v from 'valibot'
import type { IndexRecord } from './index-record.ts'
import { withoutUndefined } from './record-codec.ts'

/**
 * Mutable metadata as the swarm shares it: a dag-cbor block linking the upstream
 * bytes (a UnixFS file) with the validators and fetch time that say how fresh
 * they are. A swarm record for metadata points at its manifest.
 */
const ManifestSchema = v.object({
  // decoded CIDs may come from another copy of multiformats: check the shape, not the class
  body: v.pipe(v.custom<CID>((value) => CID.asCID(value) != null, 'expected a CID'), v.transform((value) => CID.asCID(value)!)),
  size: v.number(),
  fetchedAt: v.number(),
  upstream: v.string(),
  etag: v.optional(v.string()),
  lastModified: v.optional(v.string()),
  contentType: v.optional(v.string())
})
export type MetadataManifest = v.InferOutput<typeof ManifestSchema>

export async function encodeManifest (record: IndexRecord): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = dagCbor.encode(withoutUndefined({
    body: CID.parse(record.cid),
    size: record.size,
    fetchedAt: record.fetchedAt,
    upstream: record.upstream,
    etag: record.etag,
    lastModified: record.lastModified,
    contentType: record.contentType
  }))
  return { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
}

export function decodeManifest (bytes: Uint8Array): MetadataManifest | undefined {
  try {
    const parsed = v.safeParse(ManifestSchema, dagCbor.decode(bytes))
    return parsed.success ? parsed.output : undefined
  } catch {
    return undefined
  }
}
