import { setTimeout as sleep } from 'node:timers/promises'
import { LRUCache } from 'lru-cache'
import { CID } from 'multiformats/cid'
import type { FormatAdapter, MetadataTarget, CacheStatus } from '../../formats/index.ts'
import { NotFoundError, UpstreamError, UpstreamTimeoutError, UpstreamUnreachableError } from '../errors.ts'
import type { IndexRecord } from '../index/index-record.ts'
import type { LocalIndex } from '../index/local-index.ts'
import type { ContentStore, DeferredAdd } from '../store/content-store.ts'
import { readCapped } from './read-capped.ts'
import { decodeManifest } from '../index/metadata-manifest.ts'
import { withoutUndefined } from '../index/record-codec.ts'
import type { SwarmIndex } from '../index/swarm-index.ts'
import { loadBlock, type BlockGetter } from '../store/read-file.ts'
import type { Logger } from 'pino'
import type { Metrics } from '../node/metrics.ts'
import { createSingleFlight } from './single-flight.ts'
import type { UpstreamClient } from './upstream-client.ts'

export interface CachedDocument<Doc> {
  doc: Doc
  record: IndexRecord
  status: CacheStatus
}

export interface GetDocumentOptions {
  signal: AbortSignal
  /** Ask the upstream even if the stored copy is fresh (an artifact the copy does not list yet). */
  revalidate?: boolean
}

/**
 * Mutable metadata, upstream-first: a fresh stored copy is served as is; a stale
 * one is revalidated with a conditional request; when the upstream cannot be
 * reached or fails, the stored copy is served STALE. Parsed documents are kept in
 * memory by CID so a hot packument is parsed once, not on every request.
 */
export interface DocumentCache {
  get<Doc>(adapter: FormatAdapter<Doc>, target: MetadataTarget, options: GetDocumentOptions): Promise<CachedDocument<Doc>>
  /** Waits (up to `ms`) for the documents already answered to be stored and recorded: for a stop. */
  storing(ms: number): Promise<void>
}

export interface DocumentCacheComponents {
  index: LocalIndex
  content: ContentStore
  upstream: UpstreamClient
  now?: () => number
  /** Present when the node is in a swarm: peers answer when the upstream cannot. */
  swarm?: SwarmIndex
  blocks?: BlockGetter
  log?: Logger
  metrics?: Pick<Metrics, 'singleFlightJoins'>
}

const FLIGHT_DEADLINE_MS = 60_000
/** How long one peer may take to hand over a document, and how many peers are tried. */
const PEER_DOCUMENT_MS = 15_000
const PEER_ATTEMPTS = 3

export function createDocumentCache (components: DocumentCacheComponents, init: { memoryBytes?: number } = {}): DocumentCache {
  const { index, content, upstream } = components
  const now = components.now ?? Date.now
  const flights = createSingleFlight<{ record: IndexRecord, status: CacheStatus }>({ onJoin: () => components.metrics?.singleFlightJoins.inc({ kind: 'metadata' }) })
  /**
   * Documents fetched and answered whose blocks are still being written: their
   * records go into the index only once the blocks are on disk (never a record
   * without its blocks), and until then they are served from here.
   */
  const committing = new Map<string, { record: IndexRecord, doc: unknown, done: Promise<void> }>()
  const parsed = new LRUCache<string, { doc: unknown }, unknown>({
    maxSize: init.memoryBytes ?? 128 * 1024 * 1024,
    sizeCalculation: (_value, key) => Number(key.split('|')[1]) || 1
  })

  async function load<Doc> (adapter: FormatAdapter<Doc>, target: MetadataTarget, record: IndexRecord, signal: AbortSignal): Promise<Doc> {
    const memoKey = `${record.cid}|${record.size}`
    const hit = parsed.get(memoKey)
    if (hit !== undefined) return hit.doc as Doc
    const bytes = await content.readAll(CID.parse(record.cid), { signal, maxBytes: adapter.maxDocumentBytes })
    const doc = await adapter.parseDocument(bytes, target)
    parsed.set(memoKey, { doc })
    return doc
  }

  /** One conditional request upstream; stores a changed document, refreshes an unchanged one. */
  async function revalidate<Doc> (adapter: FormatAdapter<Doc>, target: MetadataTarget, stored: IndexRecord | undefined, signal: AbortSignal): Promise<{ record: IndexRecord, status: CacheStatus }> {
    const headers: Record<string, string> = { ...target.upstreamHeaders }
    if (stored?.etag) headers['if-none-match'] = stored.etag
    if (stored?.lastModified) headers['if-modified-since'] = stored.lastModified
    const response = await upstream.fetch(target.upstreamUrl, { headers, signal, credentials: target.credentials })

    if (response.status === 304 && stored !== undefined) {
      await response.body.cancel()
      const refreshed = { ...stored, fetchedAt: now() }
      await index.put(refreshed)
      return { record: refreshed, status: 'HIT' }
    }
    if (response.status === 404 || response.status === 410) {
      await response.body.cancel()
      throw new NotFoundError('not found')
    }
    if (!response.ok) {
      await response.body.cancel()
      throw new UpstreamError(`upstream answered ${response.status} for ${target.key}`)
    }
    const bytes = await readCapped(response, adapter.maxDocumentBytes, target.key)
    // the bytes are hashed while the document is parsed; a malformed one takes its
    // blocks back and never replaces a good stored copy
    const adding = content.addBytes(bytes, signal)
    let doc: Doc
    try {
      doc = await adapter.parseDocument(bytes, target)
    } catch (err) {
      void adding.then(async (added) => { await added.discard() }, () => {})
      throw err
    }
    const added = await adding
    const record: IndexRecord = {
      key: target.key,
      kind: 'metadata',
      cid: added.cid.toString(),
      size: bytes.byteLength,
      digests: [],
      upstream: target.upstreamUrl,
      fetchedAt: now(),
      etag: response.headers.get('etag') ?? undefined,
      lastModified: response.headers.get('last-modified') ?? undefined,
      contentType: response.headers.get('content-type') ?? undefined
    }
    // answered now; recorded once the blocks are written
    const done = commit(record, added)
    committing.set(record.key, { record, doc, done })
    void done.finally(() => { if (committing.get(record.key)?.done === done) committing.delete(record.key) })
    parsed.set(`${record.cid}|${record.size}`, { doc })
    return { record, status: 'MISS' }
  }

  /** The record goes into the index once its blocks are on disk; a failed write leaves the stored copy as it was. */
  async function commit (record: IndexRecord, added: DeferredAdd): Promise<void> {
    try {
      await added.stored
      await index.put(record)
    } catch (err) {
      components.log?.warn({ key: record.key, err: (err as Error).message }, 'could not store a fetched document')
    } finally {
      added.settle()
    }
  }

  /** A copy newer than ours from a peer's manifest, while the upstream is down. */
  async function fromPeers<Doc> (adapter: FormatAdapter<Doc>, target: MetadataTarget, stored: IndexRecord | undefined, signal: AbortSignal): Promise<CachedDocument<Doc> | undefined> {
    const { swarm, blocks } = components
    if (swarm === undefined || blocks === undefined) return undefined
    const newer = (await swarm.lookup(target.key)).filter((r) => r.kind === 'metadata' && r.fetchedAt > (stored?.fetchedAt ?? -1))
    for (const candidate of newer.slice(0, PEER_ATTEMPTS)) {
      try {
        const peerSignal = AbortSignal.any([signal, AbortSignal.timeout(PEER_DOCUMENT_MS)])
        const manifest = decodeManifest(await loadBlock(blocks, CID.parse(candidate.cid), { signal: peerSignal, offline: false }))
        if (manifest === undefined) throw new Error('not a metadata manifest')
        const bytes = await content.readAll(manifest.body, { signal: peerSignal, network: true, maxBytes: adapter.maxDocumentBytes })
        const doc = await adapter.parseDocument(bytes, target)
        const record: IndexRecord = withoutUndefined({
          key: target.key,
          kind: 'metadata',
          cid: manifest.body.toString(),
          size: bytes.byteLength,
          digests: [],
          upstream: manifest.upstream,
          fetchedAt: manifest.fetchedAt,
          etag: manifest.etag,
          lastModified: manifest.lastModified,
          contentType: manifest.contentType
        })
        await index.put(record)
        parsed.set(`${record.cid}|${record.size}`, { doc })
        return { doc, record, status: 'PEER' }
      } catch (err) {
        components.log?.info({ key: target.key, peer: candidate.peer, err: (err as Error).message }, 'peer could not supply a document')
      }
    }
    return undefined
  }

  return {
    async storing (ms) {
      await Promise.race([Promise.all([...committing.values()].map((c) => c.done)), sleep(ms, undefined, { ref: false })])
    },

    async get<Doc> (adapter: FormatAdapter<Doc>, target: MetadataTarget, options: GetDocumentOptions): Promise<CachedDocument<Doc>> {
      const pending = committing.get(target.key)
      const fresh = (record: IndexRecord | undefined): record is IndexRecord => record !== undefined && now() - record.fetchedAt < target.maxAgeSeconds * 1000
      if (pending !== undefined && fresh(pending.record) && options.revalidate !== true) {
        return { doc: pending.doc as Doc, record: pending.record, status: 'HIT' }
      }
      // anything else starts from the index as it will be: a revalidation must not record a copy before its blocks
      await pending?.done
      const stored = await index.get(target.key)
      if (fresh(stored) && options.revalidate !== true) {
        return { doc: await load(adapter, target, stored, options.signal), record: stored, status: 'HIT' }
      }
      try {
        const { record, status } = await flights.run(target.key, options.signal, (shared) =>
          revalidate(adapter, target, stored, AbortSignal.any([shared, AbortSignal.timeout(FLIGHT_DEADLINE_MS)])))
        return { doc: await load(adapter, target, record, options.signal), record, status }
      } catch (err) {
        if (!upstreamIsDown(err)) throw err
        const fromPeer = await fromPeers(adapter, target, stored, options.signal)
        if (fromPeer !== undefined) return fromPeer
        if (stored !== undefined) return { doc: await load(adapter, target, stored, options.signal), record: stored, status: 'STALE' }
        throw err
      }
    }
  }
}

function upstreamIsDown (err: unknown): boolean {
  return err instanceof UpstreamUnreachableError || err instanceof UpstreamTimeoutError || err instanceof UpstreamError
}
