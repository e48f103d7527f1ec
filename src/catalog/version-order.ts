import { compareDebianVersions } from '../prefetch/debian-version.ts'

/**
 * Orders versions the way their format does: Debian's rules for apt, else
 * semver's (numbers by value, a pre-release before its release), which also
 * puts PEP 440 and most other schemes in a sensible order.
 */
export function compareVersions (format: string, a: string, b: string): number {
  return format === 'apt' ? compareDebianVersions(a, b) : compareSemverLike(a, b)
}

function compareSemverLike (a: string, b: string): number {
  const [mainA = '', preA] = splitPre(a)
  const [mainB = '', preB] = splitPre(b)
  return compareRuns(mainA, mainB) ||
    (preA === undefined ? (preB === undefined ? 0 : 1) : preB === undefined ? -1 : compareRuns(preA, preB)) ||
    (a < b ? -1 : a > b ? 1 : 0)
}

/** `1.2.0-beta.1+build` → `['1.2.0', 'beta.1']`; build metadata does not order. */
function splitPre (version: string): [string, string | undefined] {
  const plain = version.replace(/\+.*$/, '')
  const dash = plain.indexOf('-')
  return dash === -1 ? [plain, undefined] : [plain.slice(0, dash), plain.slice(dash + 1)]
}

/** Digit runs by value, other runs by text, in turn. */
function compareRuns (a: string, b: string): number {
  const runsA = a.match(/\d+|\D+/g) ?? []
  const runsB = b.match(/\d+|\D+/g) ?? []
  for (let i = 0; i < Math.max(runsA.length, runsB.length); i++) {
    const x = runsA[i]
    const y = runsB[i]
    if (x === undefined) return -1
    if (y === undefined) return 1
    const numeric = /^\d/.test(x) && /^\d/.test(y)
    const diff = numeric ? compareDigits(x, y) : x < y ? -1 : x > y ? 1 : 0
    if (diff !== 0) return diff
  }
  return 0
}

/** Digit strings by value, however long. */
function compareDigits (x: string, y: string): number {
  const a = x.replace(/^0+(?=\d)/, '')
  const b = y.replace(/^0+(?=\d)/, '')
  return a.length !== b.length ? Math.sign(a.length - b.length) : a < b ? -1 : a > b ? 1 : 0
}
