import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

/**
 * A node's whole index as a CID-linked structure: pages of signed record
 * envelopes under one root. A joining peer fetches the root and its pages over
 * Bitswap in one go, the way dds pulls a repository's whole database.
 */
const PAGE_SIZE = 512

export interface SnapshotRoot {
  count: number
  pages: CID[]
}

export interface BlockPut { put(cid: CID, bytes: Uint8Array): Promise<unknown> }
export interface BlockGet { get(cid: CID): Promise<Uint8Array> }

async function putNode (blocks: BlockPut, value: unknown): Promise<CID> {
  const bytes = dagCbor.encode(value)
  const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
  await blocks.put(cid, bytes)
  return cid
}

export async function writeSnapshot (envelopes: Uint8Array[], blocks: BlockPut): Promise<CID> {
  const pages: CID[] = []
  for (let i = 0; i < envelopes.length; i += PAGE_SIZE) {
    pages.push(await putNode(blocks, { records: envelopes.slice(i, i + PAGE_SIZE) }))
  }
  return await putNode(blocks, { count: envelopes.length, pages } satisfies SnapshotRoot)
}

/** Every envelope under a root, page by page; malformed pages end the walk with an error. */
export async function * readSnapshot (root: CID, blocks: BlockGet): AsyncGenerator<Uint8Array> {
  const node = dagCbor.decode<SnapshotRoot>(await blocks.get(root))
  if (!Array.isArray(node?.pages)) throw new Error(`${root} is not an index snapshot`)
  for (const link of node.pages) {
    const page = dagCbor.decode<{ records: Uint8Array[] }>(await blocks.get(CID.asCID(link) ?? CID.parse(String(link))))
    if (!Array.isArray(page?.records)) throw new Error(`${link} is not an index page`)
    yield * page.records
  }
}
