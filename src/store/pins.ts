import { Key, type Datastore } from 'interface-datastore'

/**
 * What a user pinned (`dpm pin`), by index key: never evicted, however long
 * unused. A pin names the key, so a document pinned stays pinned when a newer
 * copy replaces the old one.
 */
export interface Pins {
  has(key: string): boolean
  list(): string[]
  add(key: string): Promise<void>
  /** False when the key was not pinned. */
  remove(key: string): Promise<boolean>
}

const PREFIX = '/dpm/pins'

export async function loadPins (components: { datastore: Datastore }): Promise<Pins> {
  const { datastore } = components
  const keyOf = (key: string): Key => new Key(`${PREFIX}/${Buffer.from(key).toString('base64url')}`)
  const pinned = new Set<string>()
  for await (const key of datastore.queryKeys({ prefix: PREFIX })) {
    pinned.add(Buffer.from(key.baseNamespace(), 'base64url').toString())
  }

  return {
    has: (key) => pinned.has(key),
    list: () => [...pinned].sort(),
    async add (key) {
      await datastore.put(keyOf(key), Buffer.from(String(Date.now())))
      pinned.add(key)
    },
    async remove (key) {
      if (!pinned.has(key)) return false
      await datastore.delete(keyOf(key))
      pinned.delete(key)
      return true
    }
  }
}
