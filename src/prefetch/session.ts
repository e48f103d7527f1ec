import pLimit from 'p-limit'
import type { NodeClient } from '../cli/node-client.ts'
import { describeNodeError } from './node-error.ts'

/** One gateway path fetched: what the node said, and how many body bytes came. */
export interface ItemResult {
  path: string
  /** What the item is to the user: `lodash@4.17.21`, `reg.test/app:1.0 layer`. */
  label: string
  ok: boolean
  status: number
  /** The response's X-Cache (`HIT`, `PEER`, `MISS`, `STALE`), `-` when it carried none. */
  cache: string
  bytes: number
  error?: string
}

/** Something that failed without a response of its own to blame: a version a page does not list. */
export interface Problem { label: string, path?: string, error: string }
/** An input entry left out on purpose, and why (a link, a git dependency, an unpinned requirement). */
export interface Skip { file: string, what: string, reason: string }

/** Told as the run goes: an item planned (the total grows as indexes are read), bytes as they stream, an item ended. */
export interface ProgressSink {
  planned(): void
  bytes(count: number): void
  done(item: ItemResult): void
}

export interface Session {
  /** Fetches a path as a client would and drains its body, counting it; once per path. */
  warm(path: string, label: string, accept?: string): Promise<ItemResult>
  /** Fetches an index document and returns its bytes (at most `maxBytes`), or `undefined` when that failed (recorded). */
  read(path: string, label: string, options?: { accept?: string, maxBytes?: number }): Promise<Uint8Array | undefined>
  fail(problem: Problem): void
  readonly items: ItemResult[]
  readonly problems: Problem[]
}

/** Index documents (simple pages, manifests, `InRelease`, `Packages.xz`) are small next to this. */
const DEFAULT_MAX_DOCUMENT = 128 * 1024 * 1024
const ERROR_BODY_BYTES = 4096
/** Manifests, read again when two images share one, are kept; anything larger is let go once read. */
const KEEP_DOCUMENT = 1024 * 1024

/**
 * Every fetch of a run, through one limiter: at most `concurrency` requests to the
 * node at once. Bodies are counted as they stream and dropped, except documents,
 * which the planners need to read.
 */
export function createSession (init: { client: Pick<NodeClient, 'fetch'>, concurrency: number, progress: ProgressSink }): Session {
  const limit = pLimit(init.concurrency)
  const { client, progress } = init
  const items: ItemResult[] = []
  const problems: Problem[] = []
  const started = new Map<string, Promise<{ item: ItemResult, bytes?: Uint8Array }>>()

  const once = (mode: 'warm' | 'read', path: string, label: string, accept: string | undefined, maxBytes: number) => {
    const key = `${mode} ${path}`
    let running = started.get(key)
    if (running === undefined) {
      progress.planned()
      running = limit(async () => await fetchOne(path, label, accept, mode === 'read' ? maxBytes : undefined)).then((done) => {
        items.push(done.item)
        progress.done(done.item)
        // a large document is not held for a later reader: the planners read each page and index once
        if ((done.bytes?.byteLength ?? 0) > KEEP_DOCUMENT) started.delete(key)
        return done
      })
      started.set(key, running)
    }
    return running
  }

  async function fetchOne (path: string, label: string, accept: string | undefined, keepUpTo: number | undefined): Promise<{ item: ItemResult, bytes?: Uint8Array }> {
    const item: ItemResult = { path, label, ok: false, status: 0, cache: '-', bytes: 0 }
    let response: Response
    try {
      response = await client.fetch(path, accept === undefined ? {} : { headers: { accept } })
    } catch (err) {
      return { item: { ...item, error: (err as Error).message } }
    }
    item.status = response.status
    item.cache = response.headers.get('x-cache') ?? '-'
    if (!response.ok) {
      const body = await headOf(response)
      return { item: { ...item, error: describeNodeError(response.status, response.statusText, body) } }
    }
    const chunks: Uint8Array[] = []
    try {
      for await (const chunk of response.body ?? []) {
        item.bytes += chunk.byteLength
        progress.bytes(chunk.byteLength)
        if (keepUpTo === undefined) continue
        if (item.bytes > keepUpTo) {
          await response.body?.cancel().catch(() => {})
          return { item: { ...item, error: `an index larger than ${keepUpTo} bytes` } }
        }
        chunks.push(chunk)
      }
    } catch (err) {
      // the node aborts a transfer that fails mid-stream: nothing it sent is to be trusted
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message
      return { item: { ...item, error: `the transfer broke off after ${item.bytes} bytes (${cause})` } }
    }
    return { item: { ...item, ok: true }, bytes: keepUpTo === undefined ? undefined : Buffer.concat(chunks) }
  }

  return {
    items,
    problems,
    warm: async (path, label, accept) => (await once('warm', path, label, accept, 0)).item,
    read: async (path, label, options = {}) => (await once('read', path, label, options.accept, options.maxBytes ?? DEFAULT_MAX_DOCUMENT)).bytes,
    fail: (problem) => { problems.push(problem) }
  }
}

/** The start of an error body, for the node's message; the rest is not read. */
async function headOf (response: Response): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of response.body ?? []) {
      chunks.push(chunk)
      size += chunk.byteLength
      if (size >= ERROR_BODY_BYTES) break
    }
  } catch {}
  await response.body?.cancel().catch(() => {})
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES))
}
