import { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import type { ArtifactLocation, ArtifactTarget, CacheStatus } from '../../formats/index.ts'
import { DpmError, NotFoundError, UpstreamError, UpstreamTimeoutError } from '../errors.ts'
import type { IndexRecord } from '../index/index-record.ts'
import type { LocalIndex } from '../index/local-index.ts'
import type { ContentStore } from '../store/content-store.ts'
import { resolveRange, type ByteRange } from './byte-range.ts'
import type { DocumentCache } from './document-cache.ts'
import type { FormatMount } from './format-mount.ts'
import { createSpool, type Spool } from './spool.ts'
import type { UpstreamClient } from './upstream-client.ts'
import { createVerifier } from './verifier.ts'

export interface ServedArtifact {
  status: CacheStatus
  body: ReadableStream<Uint8Array>
  /** The whole artifact's size, when known. */
  size?: number
  /** Set when answering a `Range` request with 206. */
  range?: ByteRange
}

export interface GetArtifactOptions {
  /** The client's disconnect joined with the request deadline: governs waiting, never the shared fill. */
  signal: AbortSignal
  range?: string
}

/**
 * Immutable artifacts, local-first. A miss starts one fill per key: the upstream
 * body goes to disk (for every waiting client) and into a UnixFS import at once,
 * hashed as it streams; the index entry is committed only after the published
 * digests match.
 */
export interface ArtifactCache {
  get(mount: FormatMount, target: ArtifactTarget, options: GetArtifactOptions): Promise<ServedArtifact>
  /** Fills still running (for shutdown and metrics). */
  readonly inflight: number
}

export interface ArtifactCacheComponents {
  index: LocalIndex
  content: ContentStore
  documents: DocumentCache
  upstream: UpstreamClient
  log: Logger
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

interface Fill {
  ready: Promise<{ spool: Spool, size?: number }>
  done: Promise<IndexRecord>
}

export function createArtifactCache (components: ArtifactCacheComponents, init: ArtifactCacheInit): ArtifactCache {
  const { index, content, documents, upstream, log } = components
  const headersTimeoutMs = init.headersTimeoutMs ?? 30_000
  const idleTimeoutMs = init.idleTimeoutMs ?? 60_000
  const verifyBeforeHeadersBytes = init.verifyBeforeHeadersBytes ?? 4 * 1024 * 1024
  const fills = new Map<string, Fill>()

  async function locate (mount: FormatMount, target: ArtifactTarget, signal: AbortSignal): Promise<ArtifactLocation> {
    const { adapter, upstream: base } = mount
    let document = await documents.get(adapter, target.publishedIn, { signal })
    let location = adapter.locateArtifact(target, document.doc, base)
    if (location === undefined && document.status === 'HIT') {
      // published after our copy was fetched: ask once more before saying 404
      document = await documents.get(adapter, target.publishedIn, { signal, revalidate: true })
      location = adapter.locateArtifact(target, document.doc, base)
    }
    if (location === undefined) throw new NotFoundError(`${target.key} is not published`)
    return location
  }

  function startFill (mount: FormatMount, target: ArtifactTarget): Fill {
    const controller = new AbortController()
    const stop = (): void => { controller.abort(init.lifetime.reason) }
    init.lifetime.addEventListener('abort', stop, { once: true })
    const ready = Promise.withResolvers<{ spool: Spool, size?: number }>()
    ready.promise.catch(() => {}) // its rejection is also `done`'s, which is handled below

    const done = (async (): Promise<IndexRecord> => {
      const location = await locate(mount, target, controller.signal)
      const headersTimer = setTimeout(() => controller.abort(new UpstreamTimeoutError(`upstream did not answer for ${target.key}`)), headersTimeoutMs)
      let response: Response
      try {
        // identity: the bytes stored must be the artifact itself, not a transfer encoding of it
        response = await upstream.fetch(location.url, { headers: { 'accept-encoding': 'identity' }, signal: controller.signal })
      } finally {
        clearTimeout(headersTimer)
      }
      if (response.status === 404 || response.status === 410) throw new NotFoundError(`${target.key} not found upstream`)
      if (!response.ok || response.body === null) throw new UpstreamError(`upstream answered ${response.status} for ${target.key}`)
      const declared = response.headers.has('content-length') ? Number(response.headers.get('content-length')) : location.size

      const spool = await createSpool(init.spoolDir)
      ready.resolve({ spool, size: declared })
      const verifier = createVerifier(location.digests, target.key)
      const idle = setTimeout(() => controller.abort(new UpstreamTimeoutError(`upstream stalled sending ${target.key}`)), idleTimeoutMs)
      const body = response.body
      async function * teed (): AsyncGenerator<Uint8Array> {
        const reader = body.getReader()
        while (true) {
          let read: Awaited<ReturnType<typeof reader.read>>
          try {
            read = await reader.read()
          } catch (err) {
            if (err instanceof DpmError) throw err
            throw new UpstreamError(`upstream connection broke while sending ${target.key}`, { cause: err })
          }
          if (read.done) return
          idle.refresh()
          verifier.update(read.value)
          await spool.write(read.value)
          yield read.value
        }
      }
      try {
        const added = await content.add(teed(), controller.signal)
        if (declared !== undefined && verifier.bytes !== declared) {
          await added.discard()
          throw new UpstreamError(`upstream sent ${verifier.bytes} of ${declared} bytes for ${target.key}`)
        }
        let digests
        try {
          digests = verifier.verify()
        } catch (err) {
          await added.discard()
          throw err
        }
        const record: IndexRecord = {
          key: target.key,
          kind: 'artifact',
          cid: added.cid.toString(),
          size: verifier.bytes,
          digests,
          upstream: location.url,
          fetchedAt: Date.now(),
          contentType: target.contentType
        }
        await index.put(record)
        spool.finish()
        return record
      } catch (err) {
        spool.fail(err as Error)
        throw err
      } finally {
        clearTimeout(idle)
      }
    })()

    done.then(
      (record) => { log.debug({ key: target.key, cid: record.cid, size: record.size }, 'stored') },
      (err: Error) => {
        ready.reject(err)
        log.warn({ key: target.key, err: err.message }, 'fill failed')
      }
    ).finally(() => {
      init.lifetime.removeEventListener('abort', stop)
      fills.delete(target.key)
    })
    return { ready: ready.promise, done }
  }

  function serveStored (record: IndexRecord, rangeHeader: string | undefined): ServedArtifact {
    const range = resolveRange(rangeHeader, record.size)
    const source = content.cat(CID.parse(record.cid), range && { offset: range.start, length: range.end - range.start + 1 })
    return { status: 'HIT', body: ReadableStream.from(source), size: record.size, range }
  }

  return {
    get inflight () { return fills.size },

    async get (mount, target, options) {
      let fill = fills.get(target.key)
      if (fill === undefined) {
        const record = await index.get(target.key)
        if (record !== undefined) return serveStored(record, options.range)
        // another request may have started the fill while we read the index
        fill = fills.get(target.key) ?? startFill(mount, target)
        fills.set(target.key, fill)
      }
      const { spool, size } = await abortable(fill.ready, options.signal)
      const range = resolveRange(options.range, size)
      // take the reader first: it keeps the spool open while we wait
      const body = range === undefined ? spool.reader() : spool.reader(range.start, range.end + 1)
      if (body === undefined) return { ...serveStored(await abortable(fill.done, options.signal), options.range), status: 'MISS' }
      try {
        await abortable(Promise.race([spool.reached(verifyBeforeHeadersBytes), fill.done]), options.signal)
        if (spool.failure !== undefined) throw spool.failure
      } catch (err) {
        await body.cancel()
        throw err
      }
      return { status: 'MISS', body, size, range }
    }
  }
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
