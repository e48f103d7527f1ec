import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/**
 * Peers that fetch the same artifact at once split its holders' work. Each leaf
 * has an owner among them: the owner asks the holders (peers with a whole copy)
 * for it, the others ask only the owner, which passes the leaf on as soon as it
 * has it (Bitswap sends a block to every peer whose want it holds). Without this
 * every fetcher asks every peer for every leaf: a seeder serving N fetchers at
 * once uploads the artifact N times, and each fetcher receives up to N copies.
 *
 * A peer is a fellow fetcher when it has asked this node for one of the leaves
 * this transfer has wanted lately. The owner is picked from this node and its
 * fellow fetchers by the leaf's hash, so fetchers that see each other agree on
 * it. A leaf that is slow to come is then asked of every peer (`SPARING` in
 * `store/read-file.ts`): a wrong guess costs time, never the transfer.
 */

/** Leaves of a transfer remembered to recognise fellow fetchers: a peer further behind than this (in MiB) is not one. */
const RECENT_LEAVES = 256

export interface FanOut {
  /** For one transfer from `holders`: the peers a leaf's first want leaves out, or undefined to ask every peer. */
  plan(holders: string[]): (leaf: CID) => ReadonlySet<string> | undefined
}

export interface FanOutComponents {
  self: string
  /** The peers connected now. */
  peers(): PeerId[]
  /** The blocks a peer has asked this node for and not yet received. */
  wantsFrom(peer: PeerId): CID[] | undefined
}

export function createFanOut (components: FanOutComponents): FanOut {
  return {
    plan (holders) {
      const holding = new Set(holders)
      const wanted = new Set<string>() // this transfer's leaves, the latest RECENT_LEAVES
      return (leaf) => {
        wanted.add(leaf.toString())
        if (wanted.size > RECENT_LEAVES) wanted.delete(wanted.values().next().value!)
        const peers = components.peers().map((peer) => ({ peer, id: peer.toString() }))
        const fetching = peers.filter(({ peer, id }) => !holding.has(id) && components.wantsFrom(peer)?.some((cid) => wanted.has(cid.toString())) === true)
        if (fetching.length === 0) return undefined
        const group = [components.self, ...fetching.map(({ id }) => id)].sort()
        const owner = group[leafNumber(leaf) % group.length]
        // the owner asks the holders, not its fellow fetchers: they are waiting for it
        if (owner === components.self) return new Set(fetching.map(({ id }) => id))
        return new Set(peers.map(({ id }) => id).filter((id) => id !== owner))
      }
    }
  }
}

/** The leaf's hash as a number: spreads the leaves evenly over a group. */
function leafNumber (leaf: CID): number {
  const digest = leaf.multihash.digest
  return new DataView(digest.buffer, digest.byteOffset, digest.byteLength).getUint32(digest.byteLength - 4)
}
