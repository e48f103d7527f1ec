import type { IndexRecord } from '../index/index-record.ts'
import type { StoreFacts } from './node-status.ts'

/**
 * Store facts until the bounded store reports its own: the bytes of every
 * record in the local index summed (an approximation: content two records
 * share counts twice, DAG nodes and manifests not at all), nothing pinned.
 * The sum walks the whole index, so it is kept for `ttlMs` unless a record is put.
 */
export function indexStoreUsage (components: { index: { all(): AsyncIterable<IndexRecord> } }, init: { limitBytes: number, ttlMs?: number, now?: () => number }): { store(): Promise<StoreFacts>, invalidate(): void } {
  const now = init.now ?? Date.now
  const ttlMs = init.ttlMs ?? 5_000
  let cached: { at: number, used: Promise<number> } | undefined
  const sum = async (): Promise<number> => {
    let used = 0
    for await (const record of components.index.all()) used += record.size
    return used
  }
  return {
    async store () {
      if (cached === undefined || now() - cached.at > ttlMs) {
        const used = sum()
        cached = { at: now(), used }
        used.catch(() => { cached = undefined })
      }
      return { usedBytes: await cached.used, limitBytes: init.limitBytes, pinned: 0 }
    },
    invalidate () { cached = undefined }
  }
}
