import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

/**
 * A blockstore view that remembers which blocks it created (not those that were
 * already there, which other content may share), so a failed import can be undone.
 * A block already present is not written again: the same CID is the same bytes,
 * and an artifact fetched from peers arrives here with every block in place.
 */
export function createTrackingBlockstore (blockstore: Blockstore): Pick<Blockstore, 'get' | 'put' | 'has'> & { discard(): Promise<void> } {
  const created: CID[] = []
  return {
    get: (cid, options) => blockstore.get(cid, options),
    has: (cid, options) => blockstore.has(cid, options),
    async put (cid, block, options) {
      if (await blockstore.has(cid, options)) return cid
      created.push(cid)
      return blockstore.put(cid, block, options)
    },
    async discard () {
      for (const cid of created.splice(0)) {
        try { await blockstore.delete(cid) } catch {}
      }
    }
  }
}
