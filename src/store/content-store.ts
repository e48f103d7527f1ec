import { unixfs } from '@helia/unixfs'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { readFile } from './read-file.ts'
import { createTrackingBlockstore } from './tracking-blockstore.ts'

/**
 * 1 MiB leaves: a quarter of the files (and syscalls) of the 256 KiB default when
 * reading a large artifact back from blockstore-fs, and still under the 2 MiB block
 * limit peers enforce over Bitswap.
 */
export const CHUNK_SIZE = 1024 * 1024

/** Leaves read ahead of a client: 4 MiB in flight per response keeps the disk busy. */
const READ_AHEAD_BLOCKS = 4
/**
 * Leaves wanted at once from peers: Bitswap answers a want per round trip, so a
 * window keeps the pipe full — 8 MiB per round trip, enough for a LAN or a
 * nearby region. Deeper buys nothing here: on loopback a transfer is bound by
 * CPU (4 and 16 leaves moved 1 GiB at the same ~28 MiB/s) and each leaf in
 * flight is memory on both nodes (16 cost B ~25 MB more peak RSS than 4).
 */
const NETWORK_READ_AHEAD_BLOCKS = 8

export interface AddResult {
  cid: CID
  /** Undo the add: deletes the blocks it created, so a rejected artifact leaves nothing behind. A failed add undoes itself. */
  discard(): Promise<void>
}

export interface ReadOptions {
  offset?: number
  length?: number
  signal?: AbortSignal
  /** Fetch blocks this node lacks from swarm peers (Bitswap); otherwise a missing block is an error at once. */
  network?: boolean
  /** Told of every block a peer sent for this read: who sent it and its size. */
  onPeerBlock?: (peer: string, bytes: number) => void
  /** Peers a leaf's first want leaves out (`swarm/fan-out.ts`). */
  spare?: (leaf: CID) => ReadonlySet<string> | undefined
}

/** Artifacts and documents as UnixFS files (raw 1 MiB leaves, CIDv1) in the node's blockstore. */
export interface ContentStore {
  add(bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, signal?: AbortSignal): Promise<AddResult>
  cat(cid: CID, options?: ReadOptions): AsyncIterable<Uint8Array>
  readAll(cid: CID, options?: ReadOptions & { maxBytes?: number }): Promise<Uint8Array>
}

export function createContentStore (components: { blockstore: Blockstore }): ContentStore {
  return {
    async add (bytes, signal) {
      const tracking = createTrackingBlockstore(components.blockstore)
      try {
        const cid = await unixfs({ blockstore: tracking }).addByteStream(bytes, {
          signal,
          cidVersion: 1,
          rawLeaves: true,
          chunker: fixedSize({ chunkSize: CHUNK_SIZE })
        })
        return { cid, discard: tracking.discard }
      } catch (err) {
        await tracking.discard()
        throw err
      }
    },

    cat (cid, options = {}) {
      return readFile(components.blockstore, cid, { ...options, readAhead: options.network === true ? NETWORK_READ_AHEAD_BLOCKS : READ_AHEAD_BLOCKS })
    },

    async readAll (cid, options = {}) {
      const chunks: Uint8Array[] = []
      let size = 0
      for await (const chunk of readFile(components.blockstore, cid, { signal: options.signal, network: options.network })) {
        size += chunk.byteLength
        if (options.maxBytes !== undefined && size > options.maxBytes) throw new RangeError(`document ${cid} is larger than ${options.maxBytes} bytes`)
        chunks.push(chunk)
      }
      return Buffer.concat(chunks, size)
    }
  }
}
