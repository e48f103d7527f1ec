import * as v from 'valibot'

export const DigestSchema = v.object({
  algorithm: v.picklist(['sha1', 'sha256', 'sha512']),
  hex: v.pipe(v.string(), v.regex(/^[0-9a-f]+$/))
})
export type Digest = v.InferOutput<typeof DigestSchema>

/**
 * What the node knows about one cached thing: an immutable artifact or the
 * latest copy of a mutable document. Written only after the bytes verified.
 */
export const IndexRecordSchema = v.object({
  /** The format key, e.g. `npm:tarball:lodash/-/lodash-4.17.21.tgz`. */
  key: v.string(),
  kind: v.picklist(['artifact', 'metadata']),
  /** Root CID of the UnixFS file holding the upstream bytes. */
  cid: v.string(),
  size: v.number(),
  digests: v.array(DigestSchema),
  upstream: v.string(),
  /** Milliseconds since the epoch when the upstream last confirmed these bytes. */
  fetchedAt: v.number(),
  etag: v.optional(v.string()),
  lastModified: v.optional(v.string()),
  contentType: v.optional(v.string()),
  /** The peer that made the record, in records shared through the swarm. */
  peer: v.optional(v.string())
})
export type IndexRecord = v.InferOutput<typeof IndexRecordSchema>
