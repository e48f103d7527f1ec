import { setTimeout as sleep } from 'node:timers/promises'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'

export interface ReadFileOptions {
  offset?: number
  length?: number
  signal?: AbortSignal
  /** Leaves loaded ahead of the consumer: bounds memory while keeping the disk busy. */
  readAhead?: number
  /** Fetch missing blocks from peers (Bitswap) instead of failing at once. */
  network?: boolean
  /** Told of every block a peer sent for this read: who sent it and its size. */
  onPeerBlock?: (peer: string, bytes: number) => void
  /** Peers (ids) a leaf's first want leaves out, so fetchers share the holders' work (`swarm/fan-out.ts`). */
  spare?: (leaf: CID) => ReadonlySet<string> | undefined
}

/**
 * A want that Bitswap leaves unanswered this long is cancelled and asked again.
 * A sender that gives up on a message (its send timed out, its stream reset)
 * counts the blocks as sent and never sends them again; the receiver's want then
 * waits forever unless it is renewed.
 */
const WANT_RENEW_MS = 10_000
const WANT_ATTEMPTS = 3
/**
 * Bitswap drops a cancelled want from its list only when it next sends wants
 * (1 ms debounce); a want for the same block made before then joins the
 * cancelled entry and is never sent. Wait that out before asking again.
 */
const WANT_CANCEL_SETTLE_MS = 50
/**
 * A leaf wanted from a fellow fetcher only is wanted from every peer when it is
 * slow to come: after three times this read's usual wait for a leaf (a loaded
 * swarm is slow for everyone), within these bounds.
 */
const SPARING = { minMs: 1_000, maxMs: WANT_RENEW_MS / 2, leafWaits: 3 }

/** How long this read's leaves take to arrive, as a moving average of the ones that came without help. */
class LeafPace {
  #averageMs: number | undefined
  record (ms: number): void { this.#averageMs = this.#averageMs === undefined ? ms : 0.8 * this.#averageMs + 0.2 * ms }
  get sparingMs (): number { return Math.min(SPARING.maxMs, Math.max(SPARING.minMs, SPARING.leafWaits * (this.#averageMs ?? 0))) }
}

/** Where in the file a block's bytes go: [start, end), `end` Infinity for a root that is itself a leaf (its size unknown here). */
export interface Span { cid: CID, start: number, end: number }

/**
 * A UnixFS file's leaves in file order, those that reach into [from, to), found
 * depth-first; interior nodes are small and loaded as needed. Bytes a node holds
 * itself come as `bytes`.
 */
export async function * fileLeaves (root: CID, load: (cid: CID) => Promise<Uint8Array>, from = 0, to = Infinity): AsyncGenerator<Span & { bytes?: Uint8Array }> {
  async function * leaves (span: Span): AsyncGenerator<Span & { bytes?: Uint8Array }> {
    if (span.cid.code === raw.code) { yield span; return }
    if (span.cid.code !== dagPb.code) throw new Error(`${span.cid} is not a UnixFS file block`)
    const node = dagPb.decode(await load(span.cid))
    const unixfs = UnixFS.unmarshal(node.Data ?? new Uint8Array())
    let position = span.start
    if (unixfs.data !== undefined && unixfs.data.byteLength > 0) {
      yield { cid: span.cid, start: position, end: position + unixfs.data.byteLength, bytes: unixfs.data }
      position += unixfs.data.byteLength
    }
    for (const [i, link] of node.Links.entries()) {
      const size = Number(unixfs.blockSizes[i] ?? 0n)
      const child = { cid: link.Hash, start: position, end: position + size }
      position += size
      if (child.end <= from) continue
      if (child.start >= to) return
      yield * leaves(child)
    }
  }
  yield * leaves({ cid: root, start: 0, end: Infinity })
}

/**
 * Reads a UnixFS file (dag-pb nodes over raw leaves) as a stream, pulling leaves
 * only as fast as the consumer takes them. The stock exporter walks the whole DAG
 * into an unbounded queue, which holds an entire large artifact in memory when the
 * client is slower than the disk.
 */
export async function * readFile (blockstore: BlockGetter, root: CID, options: ReadFileOptions = {}): AsyncGenerator<Uint8Array> {
  const from = options.offset ?? 0
  const to = options.length === undefined ? Infinity : from + options.length
  const readAhead = Math.max(1, options.readAhead ?? 4)
  const get = { signal: options.signal, offline: options.network !== true }
  const pace = new LeafPace()
  const chunksOf = (cid: CID, size?: number): Promise<Uint8Array[]> => get.offline ? loadChunks(blockstore, cid, size === undefined ? get : { ...get, size }) : wantChunks(blockstore, cid, options, pace)
  const load = async (cid: CID): Promise<Uint8Array> => joined(await chunksOf(cid))

  const window: Array<Promise<{ span: Span, chunks: Uint8Array[] }>> = []
  const walk = fileLeaves(root, load, from, to)
  let exhausted = false
  const fill = async (): Promise<void> => {
    while (!exhausted && window.length < readAhead) {
      const next = await walk.next()
      if (next.done === true) { exhausted = true; return }
      const span = next.value
      const size = Number.isFinite(span.end) ? span.end - span.start : undefined
      const pending = span.bytes !== undefined ? Promise.resolve({ span, chunks: [span.bytes] }) : chunksOf(span.cid, size).then((chunks) => ({ span, chunks }))
      pending.catch(() => {}) // surfaced when its turn comes
      window.push(pending)
    }
  }

  try {
    await fill()
    while (window.length > 0) {
      const { span, chunks } = await window.shift()!
      await fill()
      // the chunks as the blockstore read them: no copy into one buffer per leaf
      let position = span.start
      for (const chunk of chunks) {
        const start = Math.max(0, from - position)
        const end = Math.min(chunk.byteLength, to - position)
        position += chunk.byteLength
        if (end > start) yield start === 0 && end === chunk.byteLength ? chunk : chunk.subarray(start, end)
      }
    }
  } finally {
    await walk.return(undefined)
  }
}

export interface GetOptions {
  signal?: AbortSignal
  offline: boolean
  /** Helia's progress events; Bitswap's `bitswap:block` names the peer that sent a block. */
  onProgress?: (event: { type: string, detail: unknown }) => void
  /** Peers Bitswap does not send this want to (until the block is wanted again without them). */
  skipPeers?: ReadonlySet<string>
  /** The block's size as the DAG above it says: a local read need not ask the file. */
  size?: number
}

/** A blockstore, or Helia's, which takes `offline` to stay off the network. */
export interface BlockGetter {
  get(cid: CID, options: GetOptions): AsyncIterable<Uint8Array> | Iterable<Uint8Array>
}

/** A block from the network, renewing the want when it goes unanswered. */
async function wantChunks (blockstore: BlockGetter, cid: CID, options: ReadFileOptions, pace: LeafPace): Promise<Uint8Array[]> {
  const { signal, onPeerBlock } = options
  let sender: string | undefined
  const onProgress = onPeerBlock === undefined
    ? undefined
    : (event: { type: string, detail: unknown }): void => {
        if (event.type === 'bitswap:block') sender = String((event.detail as { sender: unknown }).sender)
      }
  for (let attempt = 1; ; attempt++) {
    const renew = AbortSignal.timeout(WANT_RENEW_MS)
    const get = { signal: signal === undefined ? renew : AbortSignal.any([signal, renew]), offline: false, onProgress }
    const spared = attempt === 1 ? options.spare?.(cid) : undefined
    try {
      const started = performance.now()
      const { chunks, helped } = spared === undefined
        ? { chunks: await loadChunks(blockstore, cid, get), helped: false }
        : await wantSparing(blockstore, cid, get, spared, pace.sparingMs)
      if (!helped) pace.record(performance.now() - started)
      if (sender !== undefined) onPeerBlock?.(sender, chunks.reduce((n, c) => n + c.byteLength, 0))
      return chunks
    } catch (err) {
      if (signal?.aborted === true || !renew.aborted || attempt === WANT_ATTEMPTS) throw err
    }
    await sleep(WANT_CANCEL_SETTLE_MS, undefined, { signal })
  }
}

/** A block wanted first from every peer but `spared`, then, if it is slow to come, from every peer (`helped`). */
async function wantSparing (blockstore: BlockGetter, cid: CID, get: GetOptions, spared: ReadonlySet<string>, waitMs: number): Promise<{ chunks: Uint8Array[], helped: boolean }> {
  const first = loadChunks(blockstore, cid, { ...get, skipPeers: spared })
  const settled = await Promise.race([first.then(() => true, () => true), sleep(waitMs, false, { ref: false })])
  if (settled) return { chunks: await first, helped: false }
  // the same want, now sent to the spared peers as well; whichever answer comes serves both
  const everyone = loadChunks(blockstore, cid, get)
  try {
    return { chunks: await Promise.any([first, everyone]), helped: true }
  } catch (err) {
    throw (err as AggregateError).errors[0]
  }
}

async function loadChunks (blockstore: BlockGetter, cid: CID, options: GetOptions): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = []
  for await (const chunk of blockstore.get(cid, options)) chunks.push(chunk)
  return chunks
}

/** One whole block (from peers too, unless `offline`). */
export async function loadBlock (blockstore: BlockGetter, cid: CID, options: GetOptions): Promise<Uint8Array> {
  return joined(await loadChunks(blockstore, cid, options))
}

function joined (chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}
