/** The X-Cache outcomes a cached response can carry (SPEC "Gateway paths"). */
export const OUTCOMES = ['HIT', 'PEER', 'MISS', 'STALE'] as const
export type Outcome = typeof OUTCOMES[number]
export type OutcomeCounts = Record<Outcome, number>

/** One request that carried X-Cache, as the access log saw it. */
export interface Fetch {
  /** Milliseconds since the epoch when the response was done. */
  at: number
  format: string
  method: string
  path: string
  status: number
  cache: Outcome
  ms: number
}

/** Responses per format in one sampling interval, from `at` for `intervalMs`. */
export interface Sample {
  at: number
  formats: Record<string, OutcomeCounts>
}

/** What the dashboard and `dpm status` show of the node's traffic, kept in memory only. */
export interface Activity {
  record(fetch: Omit<Fetch, 'at' | 'cache'> & { cache: string }): void
  /** The last requests that carried X-Cache, newest first. */
  recent(): Fetch[]
  /** Responses by format and outcome since the node started. */
  totals(): Record<string, OutcomeCounts>
  /** Closed intervals, oldest first, then the interval still open. */
  history(): Sample[]
  readonly intervalMs: number
  stop(): void
}

/** A request path longer than this is shown cut (the whole one is in the log). */
const MAX_PATH = 300

export const zeroCounts = (): OutcomeCounts => ({ HIT: 0, PEER: 0, MISS: 0, STALE: 0 })

/**
 * Two ring buffers: the last `recentSize` fetches, and `historySize` samples of
 * responses per format taken every `intervalMs` (a test makes it short).
 */
export function createActivity (init: { intervalMs?: number, recentSize?: number, historySize?: number } = {}, components: { now?: () => number } = {}): Activity {
  const now = components.now ?? Date.now
  const intervalMs = init.intervalMs ?? 30_000
  const recentSize = init.recentSize ?? 50
  const historySize = init.historySize ?? 120
  const recent: Fetch[] = []
  const samples: Sample[] = []
  const totals: Record<string, OutcomeCounts> = {}
  let open: Sample = { at: now(), formats: {} }

  const timer = setInterval(() => {
    samples.push(open)
    if (samples.length > historySize) samples.shift()
    open = { at: now(), formats: {} }
  }, intervalMs)
  timer.unref()

  return {
    intervalMs,
    record (fetch) {
      const cache = fetch.cache.toUpperCase()
      if (!(OUTCOMES as readonly string[]).includes(cache)) return
      const outcome = cache as Outcome
      const path = fetch.path.length > MAX_PATH ? `${fetch.path.slice(0, MAX_PATH)}…` : fetch.path
      recent.unshift({ ...fetch, path, cache: outcome, at: now() })
      if (recent.length > recentSize) recent.pop()
      ;(totals[fetch.format] ??= zeroCounts())[outcome]++
      ;(open.formats[fetch.format] ??= zeroCounts())[outcome]++
    },
    recent: () => recent.map((f) => ({ ...f })),
    totals: () => structuredClone(totals),
    history: () => structuredClone([...samples, open]),
    stop () { clearInterval(timer) }
  }
}
