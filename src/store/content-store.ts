import { unixfs } from '@helia/unixfs'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import type { Blockstore } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { sha256 } from 'multiformats/hashes/sha2'
import type { BlocksInUse } from './blocks-in-use.ts'
import { concatPadded } from './padded-concat.ts'
import { LeafBuffers } from './leaf-buffers.ts'
import type { ReadLeases } from './read-leases.ts'
import { fileLeaves, loadBlock, readFile, type BlockGetter } from './read-file.ts'
import { createTrackingBlockstore } from './tracking-blockstore.ts'

/**
 * 1 MiB leaves: a quarter of the files (and syscalls) of the 256 KiB default when
 * reading a large artifact back from blockstore-fs, and still under the 2 MiB block
 * limit peers enforce over Bitswap.
 */
export const CHUNK_SIZE = 1024 * 1024

/**
 * Leaves read ahead of a client. Blocks come from the page cache far faster
 * than a socket takes them, so two are enough: in `bench:serve` (1 GiB) four
 * bought one client nothing and cost eight clients ~20 % and the node ~15 MB of
 * peak RSS (each leaf ahead is a lent 1 MiB buffer per response).
 */
const READ_AHEAD_BLOCKS = 2
/**
 * Leaves wanted at once from peers: Bitswap answers a want per round trip, so a
 * window keeps the pipe full — 4 MiB per round trip, 400 MiB/s at a 10 ms round
 * trip, far above what a node verifies and stores (~30 MiB/s here, CPU-bound).
 * Deeper buys nothing: 4 and 16 leaves moved 1 GiB at the same ~28 MiB/s on
 * loopback, and each leaf in flight is memory on both nodes (B's peak while
 * pulling 1 GiB: 265–275 MiB with 4, 287–289 with 8; 16 cost ~25 MB over 4).
 */
const NETWORK_READ_AHEAD_BLOCKS = 4
/**
 * Lent leaf buffers kept for reuse: a response holds its read-ahead and what
 * its socket has not sent yet (about 4), so this serves 8 clients at once
 * without allocating, and caps idle memory at 32 MiB.
 */
const LENT_LEAVES_KEPT = 32

export interface AddResult {
  cid: CID
  /** Undo the add: deletes the blocks it created, so a rejected artifact leaves nothing behind. A failed add undoes itself. */
  discard(): Promise<void>
  /**
   * The record naming this content is in the index (or nothing will be): its
   * blocks stop being held for the import, and are kept from now on only as
   * part of what the index names. Until then a collection leaves them.
   */
  settle(): void
}

/** An add of bytes already in memory, answered once they are hashed: their blocks are on their way to disk. */
export interface DeferredAdd extends AddResult {
  /** Every block is on disk; rejects (having taken back what it wrote) if a write failed. */
  stored: Promise<void>
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
  /**
   * Local leaves may come in reused buffers: the reader hands each chunk back
   * with `release` once it has no more use for it (a socket wrote it), and must
   * not touch it after. A chunk never handed back is merely not reused.
   */
  lend?: boolean
}

/** A part of a stored file as this node's disk holds it: bytes of a block file (`length` undefined: to its end), or bytes a DAG node holds itself. */
export type FileSpan = { path: string, offset: number, length?: number } | { bytes: Uint8Array }

/** Artifacts and documents as UnixFS files (raw 1 MiB leaves, CIDv1) in the node's blockstore. */
export interface ContentStore {
  add(bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, signal?: AbortSignal): Promise<AddResult>
  /**
   * `add` for a document held whole in memory, which does not wait for the disk:
   * the CID is known once the bytes are hashed, so a fetched document can be
   * answered while its blocks are written (the record naming them waits for
   * `stored`). A cold packument no longer waits for its block file's four
   * trips to the thread pool before it is answered.
   */
  addBytes(bytes: Uint8Array, signal?: AbortSignal): Promise<DeferredAdd>
  cat(cid: CID, options?: ReadOptions): AsyncIterable<Uint8Array>
  readAll(cid: CID, options?: ReadOptions & { maxBytes?: number }): Promise<Uint8Array>
  /** Takes back a chunk a lending `cat` gave out. */
  release(chunk: Uint8Array): void
  /**
   * Where a stored file's bytes [offset, offset + length) lie on this node's disk,
   * in order, under a read lease from the first span to the last: for handing
   * block files to the kernel (`sendfile`). Local blocks only; undefined when
   * the blocks are not this node's own files.
   */
  spans(cid: CID, options?: { offset?: number, length?: number }): AsyncIterable<FileSpan> | undefined
}

export interface ContentStoreComponents {
  blockstore: Blockstore
  /** The node's own block files, read into lent buffers (`lend`); without them nothing is lent. */
  blockFiles?: { getInto(cid: CID, borrow: (bytes: number) => Buffer | undefined, size?: number): Promise<Uint8Array>, nameOf(cid: CID): string, pathOf(cid: CID): string }
  /** Blocks of imports not yet settled, and roots being read: what a collection must leave (`store-keeper.ts`). */
  inUse?: BlocksInUse
  leases?: ReadLeases
}

export function createContentStore (components: ContentStoreComponents): ContentStore {
  const { blockFiles } = components
  const buffers = new LeafBuffers(CHUNK_SIZE, LENT_LEAVES_KEPT)
  // raw leaves on this node's disk into lent buffers; everything else as the blockstore gives it
  const lending: BlockGetter | undefined = blockFiles === undefined
    ? undefined
    : {
        get: (cid, options) => cid.code === raw.code && options.offline ? lendLeaf(cid, options.size) : components.blockstore.get(cid, options)
      }
  async function * lendLeaf (cid: CID, size?: number): AsyncGenerator<Uint8Array> {
    // a buffer taken for a read that then fails is not handed back: it is collected
    yield await blockFiles!.getInto(cid, (bytes) => buffers.take(bytes), size)
  }

  const leased = <T>(cid: CID, source: AsyncIterable<T>): AsyncIterable<T> =>
    components.leases === undefined ? source : components.leases.read(cid.toString(), source)

  async function * fileSpans (files: NonNullable<typeof blockFiles>, root: CID, offset: number, length?: number): AsyncGenerator<FileSpan> {
    const to = length === undefined ? Infinity : offset + length
    const load = async (cid: CID): Promise<Uint8Array> => await loadBlock(components.blockstore, cid, { offline: true })
    for await (const leaf of fileLeaves(root, load, offset, to)) {
      const start = Math.max(offset, leaf.start)
      const end = Math.min(to, leaf.end)
      if (end <= start) continue
      // an identity CID is its own bytes: no file holds it
      const bytes = leaf.bytes ?? (leaf.cid.multihash.code === identity.code ? leaf.cid.multihash.digest : undefined)
      if (bytes !== undefined) yield { bytes: bytes.subarray(start - leaf.start, end === Infinity ? undefined : end - leaf.start) }
      else yield { path: files.pathOf(leaf.cid), offset: start - leaf.start, length: end === Infinity ? undefined : end - start }
    }
  }

  function tracked (): ReturnType<typeof createTrackingBlockstore> {
    const { inUse } = components
    return createTrackingBlockstore(components.blockstore, inUse && {
      hold: (cid) => inUse.hold(blockFiles?.nameOf(cid) ?? cid.toString()),
      writing: (write) => inUse.writing(write)
    })
  }

  return {
    async add (bytes, signal) {
      const tracking = tracked()
      try {
        const cid = await importInto(tracking, bytes, signal)
        return { cid, discard: tracking.discard, settle: tracking.settle }
      } catch (err) {
        await tracking.discard()
        throw err
      }
    },

    async addBytes (bytes, signal) {
      const tracking = tracked()
      const writes: Array<Promise<CID>> = []
      const deferring = {
        ...tracking,
        async put (cid: CID, block: Uint8Array, options?: { signal?: AbortSignal }) {
          const write = Promise.resolve(tracking.put(cid, block, options))
          write.catch(() => {}) // looked at by `stored`, which may be asked for later
          writes.push(write)
          return cid
        }
      }
      // every write started has ended, then the blocks created are deleted
      const undo = async (): Promise<void> => {
        await Promise.allSettled(writes)
        await tracking.discard()
      }
      let cid
      try {
        cid = await importInto(deferring, [bytes], signal)
      } catch (err) {
        await undo()
        throw err
      }
      const stored = Promise.all(writes).then(() => {}, async (err: unknown) => {
        await undo()
        throw err
      })
      stored.catch(() => {}) // a caller that never asks is not an unhandled rejection
      return { cid, stored, discard: undo, settle: tracking.settle }
    },

    cat (cid, options = {}) {
      const blocks = options.lend === true && lending !== undefined ? lending : components.blockstore
      return leased(cid, readFile(blocks, cid, { ...options, readAhead: options.network === true ? NETWORK_READ_AHEAD_BLOCKS : READ_AHEAD_BLOCKS }))
    },

    release (chunk) {
      buffers.release(chunk)
    },

    spans (cid, options = {}) {
      return blockFiles === undefined ? undefined : leased(cid, fileSpans(blockFiles, cid, options.offset ?? 0, options.length))
    },

    async readAll (cid, options = {}) {
      const chunks: Uint8Array[] = []
      let size = 0
      for await (const chunk of leased(cid, readFile(components.blockstore, cid, { signal: options.signal, network: options.network }))) {
        size += chunk.byteLength
        if (options.maxBytes !== undefined && size > options.maxBytes) throw new RangeError(`document ${cid} is larger than ${options.maxBytes} bytes`)
        chunks.push(chunk)
      }
      return concatPadded(chunks, size)
    }
  }
}

/** Imports `bytes` as a UnixFS file into `blockstore`: its root CID. */
async function importInto (blockstore: Pick<Blockstore, 'get' | 'put' | 'has'>, bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, signal?: AbortSignal): Promise<CID> {
  const content = await oneLeafOrStream(bytes)
  return 'leaf' in content
    ? await blockstore.put(CID.createV1(raw.code, await sha256.digest(content.leaf)), content.leaf, { signal })
    : await unixfs({ blockstore }).addByteStream(content.stream, {
      signal,
      cidVersion: 1,
      rawLeaves: true,
      chunker: fixedSize({ chunkSize: CHUNK_SIZE })
    })
}

/**
 * Content of one leaf (1 byte to `CHUNK_SIZE`: most npm tarballs and packuments)
 * is that leaf, and its CID the raw block's, as the importer would make it
 * (`rawLeaves`, a single leaf reduced to itself) without the importer's batching,
 * queues and async iteration: about an eighth of a cold tarball's CPU. Anything
 * larger, or empty, goes on to the importer, the bytes read so far first.
 */
async function oneLeafOrStream (bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ leaf: Uint8Array } | { stream: AsyncIterable<Uint8Array> }> {
  const iterator = (Symbol.asyncIterator in bytes ? bytes[Symbol.asyncIterator]() : (async function * () { yield * bytes })()[Symbol.asyncIterator]())
  const head: Uint8Array[] = []
  let size = 0
  while (size <= CHUNK_SIZE) {
    const next = await iterator.next()
    if (next.done === true) {
      if (size === 0) break
      return { leaf: head.length === 1 ? head[0]! : Buffer.concat(head, size) }
    }
    head.push(next.value)
    size += next.value.byteLength
  }
  return {
    stream: (async function * () {
      try {
        yield * head
        for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value
      } finally {
        await iterator.return?.() // an import that stops early lets go of the source too
      }
    })()
  }
}
