/**
 * dds writes a dependency's range as two bounds (`low` ≤ version < `high`) and
 * reads it in manifests as `name^1.2.3`, `name~1.2.3`, `name=1.2.3`, `name@1.2.3`
 * or `name+1.2.3` (at least). Both directions live here.
 */
const VERSION = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/
/** The upper bound of an open range (`+1.2.3`): dds has no infinity in a text column. */
export const NO_UPPER_BOUND = '999999999.999999999.999999999'

export const isVersion = (s: string): boolean => VERSION.test(s)

function parts (version: string): [number, number, number] | undefined {
  const m = VERSION.exec(version)
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])]
}

/** `^1.2.3` → `{ low: '1.2.3', high: '2.0.0' }`; undefined when it is not a range dds accepts. */
export function boundsOf (range: string): { low: string, high: string } | undefined {
  const op = range[0] !== undefined && '^~=@+'.includes(range[0]) ? range[0] : '='
  const low = op === range[0] ? range.slice(1) : range
  const p = parts(low)
  if (p === undefined) return undefined
  const [major, minor, patch] = p
  if (op === '+') return { low, high: NO_UPPER_BOUND }
  if (op === '~') return { low, high: `${major}.${minor + 1}.0` }
  if (op === '^') return { low, high: major > 0 ? `${major + 1}.0.0` : minor > 0 ? `0.${minor + 1}.0` : `0.0.${patch + 1}` }
  return { low, high: `${major}.${minor}.${patch + 1}` }
}

/** The shortest manifest form of `low` ≤ version < `high`. */
export function rangeOf (low: string, high: string): string {
  for (const op of ['^', '~', '=', '+']) {
    if (boundsOf(`${op}${low}`)?.high === high) return `${op}${low}`
  }
  return `>=${low} <${high}`
}

/**
 * A manifest's dependency string (`neo-fun^0.3.2`, or the older `neo-fun ^0.3.2`)
 * into its name and bounds; undefined when it cannot be read.
 */
export function parseDependency (spec: string): { name: string, low: string, high: string } | undefined {
  const text = spec.trim()
  const at = text.search(/[\s^~=@+]/)
  if (at <= 0) return undefined
  const name = text.slice(0, at)
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) return undefined
  const bounds = boundsOf(text.slice(at).trim())
  return bounds === undefined ? undefined : { name, ...bounds }
}
