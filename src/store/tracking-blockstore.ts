import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

/**
 * A blockstore view for one import. It remembers which blocks it created (not
 * those that were already there, which other content may share), so a failed
 * import can be undone; and it holds every block it put or found (`hold`) until
 * the import settles, so a collection running meanwhile leaves them alone. A
 * block already present is not written again: the same CID is the same bytes,
 * and an artifact fetched from peers arrives here with every block in place.
 */
export function createTrackingBlockstore (blockstore: Blockstore, guard?: { hold(cid: CID): () => void, writing<T>(write: () => Promise<T>): Promise<T> }): Pick<Blockstore, 'get' | 'put' | 'has'> & { discard(): Promise<void>, settle(): void } {
  const created: CID[] = []
  const releases: Array<() => void> = []
  const settle = (): void => { for (const release of releases.splice(0)) release() }
  return {
    get: (cid, options) => blockstore.get(cid, options),
    has: (cid, options) => blockstore.has(cid, options),
    async put (cid, block, options) {
      const write = async (): Promise<CID> => {
        if (guard !== undefined) releases.push(guard.hold(cid)) // before looking: a block found here is ours from now
        if (await blockstore.has(cid, options)) return cid
        created.push(cid)
        return blockstore.put(cid, block, options)
      }
      return guard === undefined ? write() : guard.writing(write)
    },
    async discard () {
      for (const cid of created.splice(0)) {
        try { await blockstore.delete(cid) } catch {}
      }
      settle()
    },
    settle
  }
}
