import { distance } from 'fastest-levenshtein'

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
    const score = lower.includes(wanted) ? (lower.length - wanted.length) / 1000 : Math.abs(lower.length - wanted.length) > limit ? limit + 1 : distance(wanted, lower)
    if (score <= limit) scored.push({ name, score })
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
  return [...new Set(scored.map((s) => s.name))].slice(0, SUGGESTIONS)
}
