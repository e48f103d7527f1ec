import { Key, type Datastore } from 'interface-datastore'
import * as v from 'valibot'
import { IndexRecordSchema, type IndexRecord } from './index-record.ts'

/** This node's own map of format keys to stored content, kept in the datastore. */
export interface LocalIndex {
  get(key: string): Promise<IndexRecord | undefined>
  /** One datastore put: a record is either wholly there or not at all. */
  put(record: IndexRecord): Promise<void>
  delete(key: string): Promise<void>
  all(): AsyncIterable<IndexRecord>
}

const PREFIX = '/dpm/index'

/** `onGet` hears every lookup (what the store's use clock counts as a use); `onPut` every record stored. */
export function createLocalIndex (components: { datastore: Datastore }, init: { onPut?(record: IndexRecord): void, onGet?(key: string): void } = {}): LocalIndex {
  const { datastore } = components
  const keyOf = (key: string): Key => new Key(`${PREFIX}/${Buffer.from(key).toString('base64url')}`)
  const decode = (bytes: Uint8Array): IndexRecord | undefined => {
    try {
      const parsed = v.safeParse(IndexRecordSchema, JSON.parse(Buffer.from(bytes).toString('utf8')))
      return parsed.success ? parsed.output : undefined
    } catch {
      return undefined
    }
  }

  return {
    async get (key) {
      init.onGet?.(key)
      try {
        return decode(await datastore.get(keyOf(key)))
      } catch (err) {
        if ((err as Error).name === 'NotFoundError') return undefined
        throw err
      }
    },
    async put (record) {
      await datastore.put(keyOf(record.key), Buffer.from(JSON.stringify(record)))
      init.onPut?.(record)
    },
    async delete (key) {
      await datastore.delete(keyOf(key))
    },
    async * all () {
      for await (const { value } of datastore.query({ prefix: PREFIX })) {
        const record = decode(value)
        if (record !== undefined) yield record
      }
    }
  }
}
