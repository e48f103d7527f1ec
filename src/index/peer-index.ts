import { Key, type Datastore } from 'interface-datastore'
import { fromPayload, toPayload } from './record-codec.ts'
import type { IndexRecord } from './index-record.ts'
import * as dagCbor from '@ipld/dag-cbor'

/**
 * What the swarm's peers say they hold: verified, trusted records, one per key
 * and peer, newest kept. Kept in the datastore so a restarted node still knows
 * where to look while its peers come back.
 */
export interface PeerIndex {
  /** Stores the record unless one at least as new from the same peer is there. Returns whether it was new. */
  add(record: IndexRecord & { peer: string }): Promise<boolean>
  /** The peer no longer holds the key (it evicted it): forget its record for it, unless a newer one came since. */
  remove(key: string, peer: string, at: number): Promise<void>
  /** Records for a key from peers not marked bad, newest first. */
  lookup(key: string): Promise<Array<IndexRecord & { peer: string }>>
  /** A peer that served bytes other than its record promised: never asked again. */
  markBad(peer: string): void
  isBad(peer: string): boolean
}

const PREFIX = '/dpm/peer-index'

export function createPeerIndex (components: { datastore: Datastore }): PeerIndex {
  const { datastore } = components
  const bad = new Set<string>()
  const keyPrefix = (key: string): string => `${PREFIX}/${Buffer.from(key).toString('base64url')}`

  return {
    async add (record) {
      const key = new Key(`${keyPrefix(record.key)}/${record.peer}`)
      try {
        const existing = fromPayload(dagCbor.decode(await datastore.get(key)))
        if (existing !== undefined && existing.fetchedAt >= record.fetchedAt && existing.cid === record.cid) return false
      } catch (err) {
        if ((err as Error).name !== 'NotFoundError') throw err
      }
      await datastore.put(key, dagCbor.encode(toPayload(record)))
      return true
    },

    async remove (key, peer, at) {
      const entry = new Key(`${keyPrefix(key)}/${peer}`)
      try {
        const existing = fromPayload(dagCbor.decode(await datastore.get(entry)))
        if (existing !== undefined && existing.fetchedAt > at) return
      } catch (err) {
        if ((err as Error).name === 'NotFoundError') return
        throw err
      }
      await datastore.delete(entry)
    },

    async lookup (key) {
      const found: Array<IndexRecord & { peer: string }> = []
      for await (const { value } of datastore.query({ prefix: `${keyPrefix(key)}/` })) {
        const record = fromPayload(dagCbor.decode(value))
        if (record?.peer !== undefined && record.key === key && !bad.has(record.peer)) found.push(record as IndexRecord & { peer: string })
      }
      return found.sort((a, b) => b.fetchedAt - a.fetchedAt)
    },

    markBad: (peer) => { bad.add(peer) },
    isBad: (peer) => bad.has(peer)
  }
}
