import { Key, type Datastore } from 'interface-datastore'
import { LRUCache } from 'lru-cache'
import * as v from 'valibot'
import { IndexRecordSchema, type IndexRecord } from './index-record.ts'

/** This node's own map of format keys to stored content, kept in the datastore. */
export interface LocalIndex {
  get(key: string): Promise<IndexRecord | undefined>
  /** One datastore put: a record is either wholly there or not at all. */
  put(record: IndexRecord): Promise<void>
  delete(key: string): Promise<void>
  all(): AsyncIterable<IndexRecord>
  /**
   * A record is on its way (its bytes verified and served, its blocks still being
   * written): until `stored` settles, a lookup of `key` and every listing wait
   * for it, so what a client was just served is never missing from the index.
   */
  committing(key: string, stored: Promise<unknown>): void
}

/** Where the records live in the datastore. */
export const INDEX_PREFIX = '/dpm/index'

/** A record as stored, or `undefined` for bytes that are not one. */
export function decodeIndexRecord (bytes: Uint8Array): IndexRecord | undefined {
  try {
    const parsed = v.safeParse(IndexRecordSchema, JSON.parse(Buffer.from(bytes).toString('utf8')))
    return parsed.success ? parsed.output : undefined
  } catch {
    return undefined
  }
}
/**
 * Lookups answered from memory: every request reads the index once or twice, and
 * a datastore read is a trip to LevelDB's thread plus a parse. This index is the
 * only writer of its records, so the copy is written through and never stale;
 * an empty entry remembers a key that has no record.
 */
const REMEMBERED_KEYS = 10_000

/**
 * `onGet` hears every lookup that found a record (what the store's use clock
 * counts as a use: a key looked up before it has one is no use of anything, and
 * noting it would cost a cold fetch a datastore write); `onPut` every record stored.
 */
export function createLocalIndex (components: { datastore: Datastore }, init: { onPut?(record: IndexRecord): void, onGet?(key: string): void } = {}): LocalIndex {
  const { datastore } = components
  const keyOf = (key: string): Key => new Key(`${INDEX_PREFIX}/${Buffer.from(key).toString('base64url')}`)

  const remembered = new LRUCache<string, { record?: IndexRecord }>({ max: REMEMBERED_KEYS })
  const pending = new Map<string, Promise<void>>()
  let version = 0 // counts writes: what a read or write saw is remembered only if no other write overlapped it

  async function lookUp (key: string): Promise<IndexRecord | undefined> {
    await pending.get(key)
    const known = remembered.get(key)
    if (known !== undefined) return known.record
    const writes = version
    let record: IndexRecord | undefined
    try {
      record = decodeIndexRecord(await datastore.get(keyOf(key)))
    } catch (err) {
      if ((err as Error).name !== 'NotFoundError') throw err
    }
    // a put or delete that ran during the read knows better than what the read saw
    if (writes === version) remembered.set(key, { record })
    return record
  }

  return {
    async get (key) {
      const record = await lookUp(key)
      if (record !== undefined) init.onGet?.(key)
      return record
    },
    async put (record) {
      const mine = ++version
      remembered.delete(record.key)
      await datastore.put(keyOf(record.key), Buffer.from(JSON.stringify(record)))
      // only the last of overlapping writes may say what the datastore holds
      if (version === mine) remembered.set(record.key, { record })
      init.onPut?.(record)
    },
    async delete (key) {
      const mine = ++version
      remembered.delete(key)
      await datastore.delete(keyOf(key))
      if (version === mine) remembered.set(key, {})
    },
    committing (key, stored) {
      const settled = stored.then(() => {}, () => {})
      pending.set(key, settled)
      void settled.then(() => { if (pending.get(key) === settled) pending.delete(key) })
    },
    async * all () {
      await Promise.all(pending.values())
      for await (const { value } of datastore.query({ prefix: INDEX_PREFIX })) {
        const record = decodeIndexRecord(value)
        if (record !== undefined) yield record
      }
    }
  }
}
