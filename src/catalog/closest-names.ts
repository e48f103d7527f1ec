/** At most this many names are suggested. */
const SUGGESTIONS = 3

/**
 * The names nearest to what a glob that matched nothing spells out (its
 * wildcards dropped): those containing it first, then by edit distance, and
 * none further than a third of its length (at least 2 edits).
 */
export function closestNames (glob: string, names: Iterable<string>): string[] {
  const wanted = glob.replace(/\\(.)|[*?[\]{}!^,]/g, '$1').toLowerCase()
  if (wanted === '') return []
  const limit = Math.max(2, Math.floor(wanted.length / 3))
  const scored: Array<{ name: string, score: number }> = []
  for (const name of names) {
    const lower = name.toLowerCase()
    const score = lower.includes(wanted) ? (lower.length - wanted.length) / 1000 : distance(wanted, lower, limit)
    if (score <= limit) scored.push({ name, score })
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
  return [...new Set(scored.map((s) => s.name))].slice(0, SUGGESTIONS)
}

/** Levenshtein distance, giving up (limit + 1) once every path is over `limit`. */
function distance (a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      current.push(value)
      if (value < best) best = value
    }
    if (best > limit) return limit + 1
    previous = current
  }
  return previous[b.length]!
}
