import { Key, type Datastore } from 'interface-datastore'
import type { Logger } from 'pino'

/**
 * When each stored thing was last asked for: the order in which a full store
 * evicts (least recently used first). Kept in memory, and written to the
 * datastore at most once a minute per key, so a hot artifact costs no write per
 * request and a restarted node still knows roughly what was used when.
 */
export interface UseClock {
  used(key: string): void
  /**
   * A record was just stored: its fetch time already counts as a use, so uses in
   * the next minute need no write of their own (a cold install looks up each
   * packument again for every tarball it lists, moments after storing it).
   */
  stored(key: string): void
  /** Every key's last use as far as this node knows (ms since the epoch). */
  all(): Promise<Map<string, number>>
  forget(key: string): Promise<void>
}

const PREFIX = '/dpm/used'
const PERSIST_EVERY_MS = 60_000

export function createUseClock (components: { datastore: Datastore, log: Logger, now?: () => number }): UseClock {
  const { datastore, log } = components
  const now = components.now ?? Date.now
  const latest = new Map<string, number>()
  const written = new Map<string, number>()
  const keyOf = (key: string): Key => new Key(`${PREFIX}/${Buffer.from(key).toString('base64url')}`)

  return {
    used (key) {
      const at = now()
      latest.set(key, at)
      if (at - (written.get(key) ?? 0) < PERSIST_EVERY_MS) return
      written.set(key, at)
      Promise.resolve(datastore.put(keyOf(key), Buffer.from(String(at)))).catch((err: Error) => log.debug({ err: err.message }, 'could not note a use'))
    },

    stored (key) {
      written.set(key, now())
    },

    async all () {
      const uses = new Map<string, number>()
      for await (const { key, value } of datastore.query({ prefix: PREFIX })) {
        const at = Number(Buffer.from(value).toString())
        if (Number.isFinite(at)) uses.set(Buffer.from(key.baseNamespace(), 'base64url').toString(), at)
      }
      for (const [key, at] of latest) if (at > (uses.get(key) ?? 0)) uses.set(key, at)
      return uses
    },

    async forget (key) {
      latest.delete(key)
      written.delete(key)
      await datastore.delete(keyOf(key))
    }
  }
}
