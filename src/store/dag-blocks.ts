import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'

/**
 * Every block of a UnixFS file — root, inner nodes, leaves — reading only the
 * dag-pb nodes: a raw leaf is known from the link to it, so walking a 1 GiB
 * artifact reads a handful of small blocks, not its bytes. Any other root (a
 * raw single-leaf file, a dag-cbor manifest) is its one block.
 */
export async function * dagBlocks (root: CID, get: (cid: CID) => Promise<Uint8Array>): AsyncGenerator<CID> {
  yield root
  if (root.code !== dagPb.code) return
  const node = dagPb.decode(await get(root))
  for (const link of node.Links) yield * dagBlocks(link.Hash, get)
}
