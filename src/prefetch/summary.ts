import bytes from 'bytes'
import type { ItemResult, Problem, Skip } from './session.ts'

export interface Summary {
  items: number
  bytes: number
  /** Items that came whole, and their bytes, by the node's X-Cache: where each came from. */
  byCache: Record<string, { items: number, bytes: number }>
  failed: Array<{ label: string, path?: string, status?: number, error: string }>
  skipped: Skip[]
}

const ORDER = ['HIT', 'PEER', 'MISS', 'STALE']

export function summarize (items: ItemResult[], problems: Problem[], skipped: Skip[]): Summary {
  const byCache: Summary['byCache'] = {}
  for (const item of items.filter((i) => i.ok)) {
    const row = byCache[item.cache] ??= { items: 0, bytes: 0 }
    row.items++
    row.bytes += item.bytes
  }
  const sorted = Object.fromEntries(Object.entries(byCache).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)))
  const failed = [
    ...items.filter((i) => !i.ok).map((i) => ({ label: i.label, path: i.path, status: i.status === 0 ? undefined : i.status, error: i.error ?? 'failed' })),
    ...problems
  ]
  return {
    items: items.filter((i) => i.ok).length,
    bytes: items.reduce((sum, i) => sum + (i.ok ? i.bytes : 0), 0),
    byCache: sorted,
    failed,
    skipped
  }
}

const rank = (cache: string): number => ORDER.includes(cache) ? ORDER.indexOf(cache) : ORDER.length
const size = (n: number): string => bytes.format(n, { unitSeparator: ' ' }) ?? `${n} B`

/** The summary as a person reads it: where things came from, what was left out, what failed. */
export function renderSummary (summary: Summary): string {
  const lines = [`prefetched ${summary.items} item${summary.items === 1 ? '' : 's'}, ${size(summary.bytes)}`]
  for (const [cache, row] of Object.entries(summary.byCache)) {
    lines.push(`  ${cache.padEnd(6)}${String(row.items).padStart(7)} item${row.items === 1 ? ' ' : 's'}  ${size(row.bytes).padStart(10)}`)
  }
  if (summary.skipped.length > 0) {
    lines.push(`skipped ${summary.skipped.length}:`)
    for (const s of summary.skipped) lines.push(`  ${s.file}: ${s.what}: ${s.reason}`)
  }
  if (summary.failed.length > 0) {
    lines.push(`failed ${summary.failed.length}:`)
    for (const f of summary.failed) lines.push(`  ${f.label}: ${f.path ?? ''}${f.path === undefined ? '' : ': '}${f.error}`)
  }
  return `${lines.join('\n')}\n`
}
