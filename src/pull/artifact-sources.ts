import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { ArtifactLocation, ArtifactTarget, CacheStatus } from '../../formats/index.ts'
import { NotFoundError, UpstreamError, UpstreamTimeoutError } from '../errors.ts'
import type { SwarmIndex, SwarmRecord } from '../index/swarm-index.ts'
import type { Metrics } from '../node/metrics.ts'
import type { FanOut } from '../swarm/fan-out.ts'
import type { ContentStore } from '../store/content-store.ts'
import { openPeerSource, PeerFetchError, PEER_FIRST_BYTES_MS, PEER_PATIENT_MS } from './peer-source.ts'
import { bodyFailure, type UpstreamClient, type UpstreamResponse } from './upstream-client.ts'

/**
 * An upstream body that trickles (a byte now and then keeps idle timers alive)
 * is given up when fewer than `bytes` arrive in `windowMs` — 2 KiB/s, far below
 * any link worth waiting for — and the transfer continues from the next source
 * or fails cleanly: a slow-loris upstream holds no fill and no client forever.
 */
const MIN_RATE = { bytes: 64 * 1024, windowMs: 30_000 }

/** The bytes of one artifact, from wherever they are coming. */
export interface Source {
  status: CacheStatus
  size?: number
  chunks: AsyncGenerator<Uint8Array>
  /** The peers whose bytes went into this fill: all suspect if it fails verification. */
  contributors: Set<SwarmRecord>
  /**
   * After the last chunk: the peer record whose DAG delivered every byte, when one
   * peer's transfer ran from start to end. Its blocks are in the store already.
   */
  deliveredWhole(): SwarmRecord | undefined
}

interface PeerOrigin {
  record: SwarmRecord
  /** How long the peer may take to send its first bytes. */
  patienceMs: number
  /** After this long without bytes, the upstream is opened beside the peer. */
  raceAfterMs?: number
}
type Origin = 'upstream' | PeerOrigin

interface Opened {
  /** Position in the list of origins, so a broken transfer continues with the next. */
  index: number
  chunks: AsyncGenerator<Uint8Array>
  size?: number
  peer?: SwarmRecord
}

export interface ArtifactSourcesComponents {
  content: ContentStore
  upstream: UpstreamClient
  log: Logger
  swarm?: SwarmIndex
  /** Splits the holders' work among peers fetching the same artifact at once. */
  fanOut?: FanOut
  metrics?: Pick<Metrics, 'peerFetches' | 'peerBytes'>
}

/**
 * Where a fill gets its bytes: swarm peers that hold a matching record, the
 * upstream, and peers again; a transfer that breaks continues from the next
 * source at the byte where it stopped.
 */
export function createArtifactSources (components: ArtifactSourcesComponents, init: { headersTimeoutMs?: number } = {}): { open(target: ArtifactTarget, location: ArtifactLocation, signal: AbortSignal): Promise<Source> } {
  const { content, upstream, log, swarm, fanOut, metrics } = components
  const headersTimeoutMs = init.headersTimeoutMs ?? 30_000
  // the peer that sent each block, whichever peer's record led to the transfer
  const onPeerBlock = (peer: string, bytes: number): void => { metrics?.peerBytes.inc({ peer }, bytes) }

  /** Peers' records for the artifact whose digests agree with what the upstream published. */
  async function peerCandidates (target: ArtifactTarget, location: ArtifactLocation): Promise<SwarmRecord[]> {
    if (swarm === undefined) return []
    const records = await swarm.lookup(target.key)
    return records.filter((r) => r.kind === 'artifact' && location.digests.every((d) => r.digests.some((o) => o.algorithm === d.algorithm && o.hex === d.hex)))
  }

  /**
   * Where the bytes can come from, in order: each peer with a matching record,
   * the upstream, then the peers again — after the upstream failed too, a loaded
   * swarm that is slow to start is still better than nothing. A first-round peer
   * that has not started within a few seconds races the upstream (`raceAfterMs`).
   */
  function originsFor (candidates: SwarmRecord[]): Origin[] {
    return [
      ...candidates.map((record) => ({ record, patienceMs: PEER_PATIENT_MS, raceAfterMs: PEER_FIRST_BYTES_MS })),
      'upstream' as const,
      ...candidates.map((record) => ({ record, patienceMs: PEER_PATIENT_MS }))
    ]
  }

  /** Opens the first origin from `from` on that starts delivering bytes at `offset`. */
  async function openAt (target: ArtifactTarget, location: ArtifactLocation, origins: Origin[], from: number, offset: number, signal: AbortSignal): Promise<Opened> {
    let failure: unknown = new UpstreamError(`no source could deliver ${target.key}`)
    for (let index = from; index < origins.length; index++) {
      const origin = origins[index]!
      try {
        if (origin === 'upstream') return { index, ...(await openUpstream(target, location, offset, signal)) }
        if (swarm?.isBad(origin.record.peer) === true) continue
        return await openPeer(target, location, origins, index, offset, signal)
      } catch (err) {
        // an upstream 404 for a file peers have is the upstream's problem, not ours
        if (err instanceof NotFoundError && !origins.some((o) => o !== 'upstream')) throw err
        log.info({ key: target.key, from: origin === 'upstream' ? 'upstream' : origin.record.peer, offset, err: (err as Error).message }, 'source did not deliver, trying the next')
        failure = err
      }
    }
    throw failure
  }

  /**
   * A peer's transfer; if it has not started after `raceAfterMs`, the upstream is
   * opened beside it and whichever starts delivering first is taken, the other
   * cancelled. A raced upstream counts as that origin tried.
   */
  async function openPeer (target: ArtifactTarget, location: ArtifactLocation, origins: Origin[], index: number, offset: number, signal: AbortSignal): Promise<Opened> {
    const origin = origins[index] as PeerOrigin
    const upstreamIndex = origins.indexOf('upstream', index)
    const peerStop = new AbortController()
    const upstreamStop = new AbortController()
    const holders = origins.flatMap((o) => o === 'upstream' ? [] : [o.record.peer])
    const spare = fanOut?.plan(holders)
    const fromPeer = openPeerSource(content, origin.record, { offset, patienceMs: origin.patienceMs, signal: AbortSignal.any([signal, peerStop.signal]), onPeerBlock, spare })
      .then((chunks): Opened => ({ index, chunks, size: origin.record.size, peer: origin.record }))
    fromPeer.then(() => {
      if (!peerStop.signal.aborted) metrics?.peerFetches.inc({ outcome: 'started' })
    }, () => {
      if (!peerStop.signal.aborted) metrics?.peerFetches.inc({ outcome: 'no-start' })
    })
    if (origin.raceAfterMs === undefined || upstreamIndex === -1) return await fromPeer

    const fromUpstream = (async (): Promise<Opened> => {
      await Promise.race([sleep(origin.raceAfterMs, undefined, { ref: false }), fromPeer.catch(() => {})])
      if (await settled(fromPeer)) throw new UpstreamError('the peer settled first')
      log.info({ key: target.key, peer: origin.record.peer, afterMs: origin.raceAfterMs }, 'peer slow to start, racing the upstream')
      return { index: upstreamIndex, ...(await openUpstream(target, location, offset, AbortSignal.any([signal, upstreamStop.signal]))) }
    })()
    let winner: Opened
    try {
      winner = await Promise.any([fromPeer, fromUpstream])
    } catch (err) {
      // both failed: the peer's reason first (the upstream is tried on its own turn unless it already was)
      throw (err as AggregateError).errors[0]
    }
    if (winner.peer === undefined) {
      peerStop.abort(new UpstreamError('the upstream answered first'))
      void fromPeer.then((late) => late.chunks.return(undefined), () => {})
      metrics?.peerFetches.inc({ outcome: 'lost-race' })
    } else {
      upstreamStop.abort(new UpstreamError('the peer answered first'))
    }
    return winner
  }

  async function openSource (target: ArtifactTarget, location: ArtifactLocation, signal: AbortSignal): Promise<Source> {
    const origins = originsFor(await peerCandidates(target, location))
    const first = await openAt(target, location, origins, 0, 0, signal)
    const contributors = new Set<SwarmRecord>()
    if (first.peer !== undefined) contributors.add(first.peer)
    const progress = { whole: false, resumed: false }
    return {
      status: first.peer !== undefined ? 'PEER' : 'MISS',
      size: first.size,
      contributors,
      chunks: continueAcross(target, location, origins, first, contributors, progress, signal),
      deliveredWhole: () => progress.whole && !progress.resumed ? first.peer : undefined
    }
  }

  /** A transfer that breaks midway continues from the next origin, at the byte where it stopped. */
  async function * continueAcross (target: ArtifactTarget, location: ArtifactLocation, origins: Origin[], first: Opened, contributors: Set<SwarmRecord>, progress: { whole: boolean, resumed: boolean }, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    let current = first
    let received = 0
    let upstreamAskedAgain = false
    while (true) {
      let askAgain = false
      try {
        for await (const chunk of current.chunks) {
          received += chunk.byteLength
          yield chunk
        }
        progress.whole = true
        return
      } catch (err) {
        if (signal.aborted || !(err instanceof PeerFetchError || err instanceof UpstreamError || err instanceof UpstreamTimeoutError)) throw err
        if (current.peer !== undefined) metrics?.peerFetches.inc({ outcome: 'broke' })
        // a trickle (a timeout) would only trickle again; a broken connection is worth one more try
        askAgain = current.peer === undefined && err instanceof UpstreamError && !upstreamAskedAgain
        log.warn({ key: target.key, received, err: err.message }, askAgain ? 'transfer broke, asking the upstream again' : 'transfer broke, continuing from the next source')
      }
      progress.resumed = true
      upstreamAskedAgain ||= askAgain
      const again = askAgain ? await reopenUpstream(target, location, current.index, received, signal) : undefined
      current = again ?? await openAt(target, location, origins, current.index + 1, received, signal)
      if (current.peer !== undefined) contributors.add(current.peer)
    }
  }

  /**
   * An upstream transfer that broke (a dropped connection, a body that ended
   * before its Content-Length) is asked for once more, from the byte where it
   * stopped, before the next source: one lost connection under load should not
   * fail every client waiting on the fill.
   */
  async function reopenUpstream (target: ArtifactTarget, location: ArtifactLocation, index: number, offset: number, signal: AbortSignal): Promise<Opened | undefined> {
    try {
      return { index, ...(await openUpstream(target, location, offset, signal)) }
    } catch (err) {
      if (signal.aborted) throw err
      log.info({ key: target.key, offset, err: (err as Error).message }, 'upstream did not deliver again, trying the next source')
      return undefined
    }
  }

  async function openUpstream (target: ArtifactTarget, location: ArtifactLocation, offset: number, signal: AbortSignal): Promise<{ size?: number, chunks: AsyncGenerator<Uint8Array> }> {
    const headersDeadline = new AbortController()
    const timer = setTimeout(() => { headersDeadline.abort(new UpstreamTimeoutError(`upstream did not answer for ${target.key}`)) }, headersTimeoutMs)
    let response: UpstreamResponse
    try {
      // identity: the bytes stored must be the artifact itself, not a transfer encoding of it
      const headers: Record<string, string> = { 'accept-encoding': 'identity' }
      if (offset > 0) headers.range = `bytes=${offset}-`
      response = await upstream.fetch(location.url, { headers, signal: AbortSignal.any([signal, headersDeadline.signal]), credentials: location.credentials })
    } finally {
      clearTimeout(timer)
    }
    if (response.status === 404 || response.status === 410) throw new NotFoundError(`${target.key} not found upstream`)
    // an upstream that ignores Range sends the whole artifact again: the bytes before `offset` are dropped
    const partial = offset > 0 && response.status === 206
    if (response.status !== 200 && !partial) {
      await response.body.cancel()
      throw new UpstreamError(`upstream answered ${response.status} for ${target.key}${offset > 0 ? ` (resuming at byte ${offset})` : ''}`)
    }
    const start = partial ? offset : 0
    const length = response.headers.get('content-length')
    const declared = length === null ? undefined : start + Number(length)
    const body = response.body
    return {
      size: declared ?? location.size,
      chunks: (async function * () {
        const reader = body[Symbol.asyncIterator]()
        let window = { start: performance.now(), bytes: 0 }
        let position = start
        // a transfer given up on (a trickle, a fill abandoned) lets go of its connection
        try {
          while (true) {
            let read: IteratorResult<Uint8Array>
            try {
              read = await reader.next()
            } catch (err) {
              throw bodyFailure(err, target.key)
            }
            if (read.done) {
              // a connection closed early can read as a clean end: the length it declared says otherwise
              if (declared !== undefined && position < declared) throw new UpstreamError(`upstream ended ${target.key} after ${position} of ${declared} bytes`)
              return
            }
            const chunk = position >= offset ? read.value : read.value.subarray(Math.min(offset - position, read.value.byteLength))
            position += read.value.byteLength
            window.bytes += read.value.byteLength
            if (performance.now() - window.start >= MIN_RATE.windowMs) {
              if (window.bytes < MIN_RATE.bytes) {
                throw new UpstreamTimeoutError(`${target.key} arrived too slowly from the upstream: ${window.bytes} bytes in ${MIN_RATE.windowMs / 1000} s`)
              }
              window = { start: performance.now(), bytes: 0 }
            }
            if (chunk.byteLength > 0) yield chunk
          }
        } finally {
          await body.cancel()
        }
      })()
    }
  }

  return { open: openSource }
}

/** Whether a promise has settled (either way) by the next turn of the microtask queue. */
async function settled (promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending')
  return await Promise.race([promise.then(() => true, () => true), Promise.resolve(pending)]) !== pending
}
