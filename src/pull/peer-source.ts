import { CID } from 'multiformats/cid'
import { DpmError, UpstreamTimeoutError } from '../errors.ts'
import type { SwarmRecord } from '../index/swarm-index.ts'
import type { ContentStore, ReadOptions } from '../store/content-store.ts'

/** Peers that have a record must start sending within this time, or the upstream is asked instead. */
export const PEER_FIRST_BYTES_MS = 5_000
/** The second round of peers, after the upstream failed too: a loaded swarm may be slow to start. */
export const PEER_PATIENT_MS = 30_000
/** A peer transfer that stalls this long is given up (and continued from the next source). */
export const PEER_IDLE_MS = 30_000

/** No peer delivered, or a transfer broke: a 502 if nothing else can serve the bytes either. */
export class PeerFetchError extends DpmError {
  override name = 'PeerFetchError'
  override readonly status = 502
}

/**
 * An artifact's bytes from swarm peers over Bitswap, by the root CID in a peer's
 * record, from `offset` on. Resolves once the first bytes have arrived, so a
 * caller can move on to another source before it has promised anything.
 */
export async function openPeerSource (content: ContentStore, record: SwarmRecord, options: { offset: number, patienceMs: number, signal: AbortSignal } & Pick<ReadOptions, 'onPeerBlock' | 'spare'>): Promise<AsyncGenerator<Uint8Array>> {
  const stall = new AbortController()
  const chunks = content.cat(CID.parse(record.cid), { offset: options.offset, network: true, signal: AbortSignal.any([options.signal, stall.signal]), onPeerBlock: options.onPeerBlock, spare: options.spare })[Symbol.asyncIterator]()
  /** The next chunk, or a stall: the timer runs only while waiting on the peer, not on our consumer. */
  const next = async (ms: number): Promise<IteratorResult<Uint8Array>> => {
    const timer = setTimeout(() => { stall.abort(new UpstreamTimeoutError(`peer ${record.peer} sent nothing for ${ms} ms`)) }, ms)
    try {
      return await chunks.next()
    } catch (err) {
      throw new PeerFetchError(`peer transfer of ${record.key} from ${record.peer} failed: ${(err as Error).message}`, { cause: err })
    } finally {
      clearTimeout(timer)
    }
  }

  const first = await next(options.patienceMs)
  return (async function * () {
    try {
      for (let result = first; result.done !== true; result = await next(PEER_IDLE_MS)) yield result.value
    } finally {
      await chunks.return?.(undefined)
    }
  })()
}
