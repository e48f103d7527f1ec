/** Orders Debian versions as dpkg does (`[epoch:]upstream[-revision]`, `~` before anything, even the end). */
export function compareDebianVersions (a: string, b: string): number {
  const [ea, ua, ra] = split(a)
  const [eb, ub, rb] = split(b)
  return Math.sign(ea - eb) || compareParts(ua, ub) || compareParts(ra, rb)
}

function split (version: string): [number, string, string] {
  const colon = version.indexOf(':')
  const epoch = colon === -1 ? 0 : Number(version.slice(0, colon)) || 0
  const rest = version.slice(colon + 1)
  const dash = rest.lastIndexOf('-')
  return dash === -1 ? [epoch, rest, ''] : [epoch, rest.slice(0, dash), rest.slice(dash + 1)]
}

/** A character's weight in the non-digit runs: `~` lowest, then the end, letters, then everything else. */
function order (c: string | undefined): number {
  if (c === undefined || /\d/.test(c)) return 0
  if (c === '~') return -1
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0)
  return c.charCodeAt(0) + 256
}

/** dpkg's verrevcmp: non-digit runs by `order`, digit runs by value, in turn. */
function compareParts (a: string, b: string): number {
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    let first = 0
    while ((i < a.length && !/\d/.test(a[i]!)) || (j < b.length && !/\d/.test(b[j]!))) {
      const diff = order(a[i]) - order(b[j])
      if (diff !== 0) return Math.sign(diff)
      i++
      j++
    }
    while (a[i] === '0') i++
    while (b[j] === '0') j++
    while (i < a.length && /\d/.test(a[i]!) && j < b.length && /\d/.test(b[j]!)) {
      if (first === 0) first = a.charCodeAt(i) - b.charCodeAt(j)
      i++
      j++
    }
    if (i < a.length && /\d/.test(a[i]!)) return 1
    if (j < b.length && /\d/.test(b[j]!)) return -1
    if (first !== 0) return Math.sign(first)
  }
  return 0
}
