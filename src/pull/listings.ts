import { Key, type Datastore } from 'interface-datastore'
import * as v from 'valibot'
import type { ArtifactLocation, ListedArtifact } from '../../formats/index.ts'
import { DigestSchema } from '../index/index-record.ts'

/**
 * What index artifacts list (an apt `Packages` index: every pool file with its
 * SHA256 and size), kept in the datastore by artifact key. A later listing of the
 * same key replaces the earlier one: the newest index says what the file is now.
 */
export interface Listings {
  /** Stores every entry; resolves once all are written. */
  add(entries: AsyncIterable<ListedArtifact>): Promise<number>
  /** Where the newest listing that names `key` says it lives, after any listing being written now. */
  locate(key: string): Promise<ArtifactLocation | undefined>
}

const PREFIX = '/dpm/listings'
/** Entries written in one datastore batch. */
const BATCH = 2000

const LocationSchema = v.object({
  url: v.string(),
  digests: v.array(DigestSchema),
  size: v.optional(v.number())
})

export function createListings (components: { datastore: Datastore }): Listings {
  const { datastore } = components
  const keyOf = (key: string): Key => new Key(`${PREFIX}/${Buffer.from(key).toString('base64url')}`)
  const writing = new Set<Promise<unknown>>()

  async function write (entries: AsyncIterable<ListedArtifact>): Promise<number> {
    let count = 0
    let batch = datastore.batch()
    for await (const { key, location } of entries) {
      batch.put(keyOf(key), Buffer.from(JSON.stringify({ url: location.url, digests: location.digests, size: location.size })))
      if (++count % BATCH === 0) {
        await batch.commit()
        batch = datastore.batch()
      }
    }
    await batch.commit()
    return count
  }

  return {
    async add (entries) {
      const written = write(entries)
      writing.add(written)
      try {
        return await written
      } finally {
        writing.delete(written)
      }
    },
    async locate (key) {
      // a pool file asked for while the index naming it is still being read: wait for it
      await Promise.allSettled([...writing])
      let bytes: Uint8Array
      try {
        bytes = await datastore.get(keyOf(key))
      } catch (err) {
        if ((err as Error).name === 'NotFoundError') return undefined
        throw err
      }
      const parsed = v.safeParse(LocationSchema, JSON.parse(Buffer.from(bytes).toString('utf8')))
      return parsed.success ? parsed.output : undefined
    }
  }
}
