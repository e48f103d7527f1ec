import { setTimeout as sleep } from 'node:timers/promises'
import { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import type { ArtifactLocation, ArtifactTarget, CacheStatus } from '../../formats/index.ts'
import { DpmError, NotFoundError, UpstreamError, UpstreamTimeoutError } from '../errors.ts'
import type { Digest, IndexRecord } from '../index/index-record.ts'
import type { LocalIndex } from '../index/local-index.ts'
import type { SwarmIndex } from '../index/swarm-index.ts'
import type { Metrics } from '../node/metrics.ts'
import type { AddResult, ContentStore, FileSpan } from '../store/content-store.ts'
import type { FanOut } from '../swarm/fan-out.ts'
import { resolveRange, type ByteRange } from './byte-range.ts'
import type { DocumentCache } from './document-cache.ts'
import type { FormatMount } from './format-mount.ts'
import type { Listings } from './listings.ts'
import { createArtifactSources, type Source } from './artifact-sources.ts'
import { createSpool, type Spool } from './spool.ts'
import type { UpstreamClient } from './upstream-client.ts'
import { createVerifier, type Verifier } from './verifier.ts'

export interface ServedArtifact {
  status: CacheStatus
  body: ReadableStream<Uint8Array>
  /** The whole artifact's size, when known. */
  size?: number
  /** Set when answering a `Range` request with 206. */
  range?: ByteRange
  /** Where a writer hands back each chunk of `body` once sent: a cache hit's chunks are lent buffers (`ContentStore.cat`). */
  release?: (chunk: Uint8Array) => void
  /** A cache hit's bytes as block files on this node's disk, for a writer that hands them to the kernel instead of reading `body`. */
  spans?: AsyncIterable<FileSpan>
}

export interface GetArtifactOptions {
  /** The client's disconnect joined with the request deadline: governs waiting, never the shared fill. */
  signal: AbortSignal
  range?: string
}

/**
 * Immutable artifacts, local-first. A miss starts one fill per key: the upstream
 * body goes to a spool (for every waiting client) and into a UnixFS import at
 * once, hashed as it streams. Clients get the last byte as soon as the published
 * digests match; the index entry is committed once the import has stored it.
 */
export interface ArtifactCache {
  get(mount: FormatMount, target: ArtifactTarget, options: GetArtifactOptions): Promise<ServedArtifact>
  /** Fills still running (for shutdown and metrics). */
  readonly inflight: number
  /**
   * Waits (up to `ms`) for the fills whose bytes have all arrived and been
   * verified to be stored: their clients may be gone already, their records not
   * yet written. For a stop, before the fills are aborted.
   */
  storing(ms: number): Promise<void>
}

export interface ArtifactCacheComponents {
  index: LocalIndex
  content: ContentStore
  documents: DocumentCache
  listings: Listings
  upstream: UpstreamClient
  log: Logger
  /** Present when the node is in a swarm: peers are asked before the upstream. */
  swarm?: SwarmIndex
  fanOut?: FanOut
  metrics?: Pick<Metrics, 'peerFetches' | 'peerBytes' | 'singleFlightJoins' | 'verificationFailures'>
  /** The node's clock: a record's fetch time is weighed against its uses when a full store evicts. */
  now?: () => number
}

export interface ArtifactCacheInit {
  spoolDir: string
  /** Aborts every fill: the node is stopping. */
  lifetime: AbortSignal
  /** How long the upstream may take to start answering. */
  headersTimeoutMs?: number
  /** How long the upstream body may stall before the fill is abandoned. */
  idleTimeoutMs?: number
  /**
   * Clients get response headers only after this many bytes have arrived (or the
   * fill is verified): small artifacts that fail verification get a clean 502
   * instead of an aborted 200; large ones start streaming without waiting.
   */
  verifyBeforeHeadersBytes?: number
}

interface FillStart {
  spool: Spool
  size?: number
  status: CacheStatus
}

interface Fill {
  ready: Promise<FillStart>
  done: Promise<IndexRecord>
  /** Every byte is here and verified; what is left is storing them. */
  verified: boolean
}

/** A peer's bytes failed verification: the fill is retried once, without that peer. */
export class PeerContentError extends DpmError {
  override name = 'PeerContentError'
  override readonly status = 502
}

export function createArtifactCache (components: ArtifactCacheComponents, init: ArtifactCacheInit): ArtifactCache {
  const { index, content, documents, listings, log, swarm, metrics } = components
  const sources = createArtifactSources(components, { headersTimeoutMs: init.headersTimeoutMs })
  const idleTimeoutMs = init.idleTimeoutMs ?? 60_000
  const verifyBeforeHeadersBytes = init.verifyBeforeHeadersBytes ?? 4 * 1024 * 1024
  const fills = new Map<string, Fill>()

  async function locate (mount: FormatMount, target: ArtifactTarget, signal: AbortSignal): Promise<ArtifactLocation> {
    const location = await locateIn(mount, target, signal)
    return { ...location, url: new URL(location.url, mount.upstream).href }
  }

  async function locateIn (mount: FormatMount, target: ArtifactTarget, signal: AbortSignal): Promise<ArtifactLocation> {
    const { adapter, upstream: base } = mount
    const { publishedIn } = target
    if (target.location !== undefined) return target.location
    if (publishedIn === undefined) {
      const listed = await listings.locate(target.key)
      if (listed === undefined) throw new NotFoundError(`${target.key} is not listed in any index this node has fetched`)
      return listed
    }
    const others = await Promise.all((target.alsoPublishedIn ?? []).map(async (t) => (await documents.get(adapter, t, { signal })).doc))
    let document = await documents.get(adapter, publishedIn, { signal })
    let location = adapter.locateArtifact(target, document.doc, base, others)
    if (location === undefined && document.status === 'HIT') {
      // published after our copy was fetched: ask once more before saying 404
      document = await documents.get(adapter, publishedIn, { signal, revalidate: true })
      location = adapter.locateArtifact(target, document.doc, base, others)
    }
    if (location === undefined) throw new NotFoundError(`${target.key} is not published`)
    return location
  }

  /** A stored copy whose name is no longer published (a package dropped from its index) is still the verified file. */
  async function locateIfPublished (mount: FormatMount, target: ArtifactTarget, signal: AbortSignal): Promise<ArtifactLocation | undefined> {
    try {
      return await locate(mount, target, signal)
    } catch (err) {
      if (err instanceof NotFoundError) return undefined
      throw err
    }
  }

  function startFill (mount: FormatMount, target: ArtifactTarget, located?: ArtifactLocation): Fill {
    const controller = new AbortController()
    const stop = (): void => { controller.abort(init.lifetime.reason) }
    init.lifetime.addEventListener('abort', stop, { once: true })
    const ready = Promise.withResolvers<FillStart>()
    ready.promise.catch(() => {}) // its rejection is also `done`'s, which is handled below

    const done = (async (): Promise<IndexRecord> => {
      const location = located ?? await locate(mount, target, controller.signal)
      const source = await sources.open(target, location, controller.signal)
      const spool = createSpool(init.spoolDir)
      ready.resolve({ spool, size: source.size, status: source.status })
      const verifier = createVerifier(location.digests, target.key)
      const idle = setTimeout(() => controller.abort(new UpstreamTimeoutError(`no bytes for ${target.key} in ${idleTimeoutMs} ms`)), idleTimeoutMs)
      let digests: Digest[] | undefined
      let wrongBytes: Error | undefined
      async function * teed (): AsyncGenerator<Uint8Array> {
        for await (const chunk of source.chunks) {
          idle.refresh()
          verifier.update(chunk)
          await spool.write(chunk)
          yield chunk
        }
        try {
          digests = verify(target.key, source, location, verifier)
        } catch (err) {
          wrongBytes = err as Error
          throw err
        }
        // the clients may have the end now; the store commits behind them. An index that
        // lists other files is read first, so that what a client asks for next is known.
        fill.verified = true
        index.committing(target.key, done)
        if (location.listing === undefined) spool.finish()
      }
      try {
        let added: AddResult
        try {
          added = source.status === 'PEER' ? await storePeerFill(source, teed(), spool, controller.signal) : await content.add(teed(), controller.signal)
        } catch (err) {
          if (wrongBytes === undefined) throw err
          metrics?.verificationFailures.inc({ format: mount.adapter.name, source: source.contributors.size === 0 ? 'upstream' : 'peer' })
          if (source.contributors.size === 0) throw err
          for (const record of source.contributors) swarm?.reject(record, wrongBytes.message)
          throw new PeerContentError(`a peer sent wrong bytes for ${target.key}`, { cause: err })
        }
        const record: IndexRecord = {
          key: target.key,
          kind: 'artifact',
          cid: added.cid.toString(),
          size: verifier.bytes,
          digests: digests!,
          upstream: location.url,
          fetchedAt: (components.now ?? Date.now)(),
          contentType: target.contentType
        }
        try {
          // noted before the record, so a crash cannot lose what the index lists
          if (location.listing !== undefined) await listings.read(mount, location.listing, added.cid)
          spool.finish()
          await index.put(record)
        } finally {
          added.settle()
        }
        if (source.contributors.size > 0) metrics?.peerFetches.inc({ outcome: 'verified' })
        return record
      } catch (err) {
        spool.fail(err as Error)
        throw err
      } finally {
        clearTimeout(idle)
        spool.close()
      }
    })()

    const fill: Fill = {
      verified: false,
      ready: ready.promise,
      // forget a failed fill before anyone waiting on it hears of the failure, so a retry starts afresh
      done: done.catch((err: Error) => {
        forget()
        ready.reject(err)
        log.warn({ key: target.key, err: err.message }, 'fill failed')
        throw err
      })
    }
    fill.done.then((record) => {
      forget()
      log.debug({ key: target.key, cid: record.cid, size: record.size }, 'stored')
    }, () => {})
    function forget (): void {
      init.lifetime.removeEventListener('abort', stop)
      if (fills.get(target.key) === fill) fills.delete(target.key)
    }
    return fill
  }

  /**
   * A fill that came from peers: the blocks Bitswap fetched are stored already,
   * so when one peer's DAG delivered every byte it is the artifact as it is —
   * hashing and importing the bytes again would only rebuild it. A transfer that
   * switched sources midway is imported from the spool once all bytes are in.
   */
  async function storePeerFill (source: Source, chunks: AsyncIterable<Uint8Array>, spool: Spool, signal: AbortSignal): Promise<AddResult> {
    for await (const _ of chunks); // verified and spooled as they pass
    const whole = source.deliveredWhole()
    // nothing to undo: which of those blocks were here before is unknown, and they are only blocks
    if (whole !== undefined) return { cid: CID.parse(whole.cid), discard: async () => {}, settle: () => {} }
    return await content.add(spool.readBack(), signal)
  }

  function serveStored (record: IndexRecord, rangeHeader: string | undefined): ServedArtifact {
    const range = resolveRange(rangeHeader, record.size)
    const part = range && { offset: range.start, length: range.end - range.start + 1 }
    const cid = CID.parse(record.cid)
    // both lazy: the writer reads one of them
    const source = content.cat(cid, { lend: true, ...part })
    const spans = content.spans(cid, part)
    return { status: 'HIT', body: ReadableStream.from(source), size: record.size, range, release: content.release, ...spans && { spans } }
  }

  return {
    get inflight () { return fills.size },

    async storing (ms) {
      const committing = [...fills.values()].filter((f) => f.verified).map(async (f) => await f.done.catch(() => {}))
      await Promise.race([Promise.all(committing), sleep(ms, undefined, { ref: false })])
    },

    async get (mount, target, options) {
      try {
        return await serve(mount, target, options)
      } catch (err) {
        // nothing reached the client yet: try again, now without the peer that lied
        if (err instanceof PeerContentError) return await serve(mount, target, options)
        throw err
      }
    }
  }

  async function serve (mount: FormatMount, target: ArtifactTarget, options: GetArtifactOptions): Promise<ServedArtifact> {
    let fill = fills.get(target.key)
    let started = false
    if (fill === undefined) {
      const record = await index.get(target.key)
      // a name the upstream may publish again is checked against what it publishes now
      const located = record !== undefined && target.republishable === true ? await locateIfPublished(mount, target, options.signal) : undefined
      if (record !== undefined && (located === undefined || sameDigests(record.digests, located.digests))) return serveStored(record, options.range)
      if (located !== undefined) log.info({ key: target.key, was: record?.digests, now: located.digests }, 'republished with other bytes: fetching again')
      // another request may have started the fill while we read the index
      fill = fills.get(target.key)
      if (fill === undefined) {
        fills.set(target.key, fill = startFill(mount, target, located))
        started = true
      }
    }
    const { spool, size, status } = await abortable(fill.ready, options.signal)
    // every byte is here and verified, the record is being committed: served from the store once it is
    if (spool.finished) return serveStored(await abortable(fill.done, options.signal), options.range)
    if (!started) metrics?.singleFlightJoins.inc({ kind: 'artifact' })
    const range = resolveRange(options.range, size)
    // take the reader first: it keeps the spool open while we wait
    const body = range === undefined ? spool.reader() : spool.reader(range.start, range.end + 1)
    if (body === undefined) return { ...serveStored(await abortable(fill.done, options.signal), options.range), status }
    try {
      await abortable(Promise.race([spool.reached(verifyBeforeHeadersBytes), fill.done]), options.signal)
      if (spool.failure !== undefined) throw spool.failure
    } catch (err) {
      await body.cancel()
      throw err
    }
    return { status, body, size, range }
  }
}

/** The bytes that arrived are the artifact published: its length and its digests. */
function verify (key: string, source: Source, location: ArtifactLocation, verifier: Verifier): Digest[] {
  if (source.size !== undefined && verifier.bytes !== source.size) {
    throw new UpstreamError(`received ${verifier.bytes} of ${source.size} bytes for ${key}`)
  }
  if (location.size !== undefined && verifier.bytes !== location.size) {
    throw new UpstreamError(`${key} is ${verifier.bytes} bytes, but ${location.size} were published`)
  }
  return verifier.verify()
}

/** Every digest published now is one the stored copy was verified against. */
function sameDigests (stored: Digest[], published: Digest[]): boolean {
  return published.every((d) => stored.some((s) => s.algorithm === d.algorithm && s.hex === d.hex))
}

/** Waits for `promise` unless the caller leaves first; leaving never cancels the shared work. */
async function abortable<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  const left = Promise.withResolvers<never>()
  const leave = (): void => { left.reject(signal.reason) }
  signal.addEventListener('abort', leave, { once: true })
  try {
    return await Promise.race([promise, left.promise])
  } finally {
    signal.removeEventListener('abort', leave)
  }
}
