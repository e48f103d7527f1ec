/**
 * What a path in the mounted tree is by its shape alone, and the gateway path
 * it reads from (SPEC "Gateway paths"). Uncached packages are in no listing, yet
 * `DIR/npm/lodash/-/lodash-4.17.21.tgz` must open: each format's layout says which
 * names are directories and which are files to ask the gateway for.
 */
export type Shape = { type: 'dir' } | { type: 'file', gatewayPath: string } | { type: 'none' }

const DIR: Shape = { type: 'dir' }
const NONE: Shape = { type: 'none' }
const APT_FILES = new Set(['InRelease', 'Release', 'Release.gpg', 'Packages', 'Sources', 'Index'])
const ALGORITHMS = new Set(['sha256', 'sha512'])

const enc = (segments: string[]): string => segments.map(encodeURIComponent).join('/')
const file = (gatewayPath: string): Shape => ({ type: 'file', gatewayPath })

/** `segments` are decoded names below the mount point; callers have checked each with `isSafeName`. */
export function shapeOf (segments: string[]): Shape {
  const [format, ...rest] = segments
  if (format === undefined) return DIR
  switch (format) {
    case 'npm': return npm(rest)
    case 'pypi': return rest.length === 0 || (rest[0] === 'files' && rest.length <= 2) ? DIR : rest[0] === 'files' && rest.length === 3 ? file(`/pypi/${enc(rest)}`) : NONE
    case 'apt': return rest.length <= 1 ? DIR : apt(rest[0]!, rest.slice(1))
    case 'oci': return rest.length <= 1 ? DIR : oci(rest[0]!, rest.slice(1))
    case 'cargo': return cargo(rest)
    case 'dds': return dds(rest)
    default: return NONE
  }
}

function npm (rest: string[]): Shape {
  const scoped = rest[0]?.startsWith('@') === true
  const nameLength = scoped ? 2 : 1
  if (rest.length <= nameLength) return DIR
  if (rest[nameLength] !== '-') return NONE
  if (rest.length === nameLength + 1) return DIR
  if (rest.length === nameLength + 2 && rest.at(-1)!.endsWith('.tgz')) return file(`/npm/${rest.map((s, i) => i === 0 && scoped ? s : encodeURIComponent(s)).join('/')}`)
  return NONE
}

function apt (name: string, rest: string[]): Shape {
  const [area, ...below] = rest
  const gateway = (): Shape => file(`/apt/${enc([name, ...rest])}`)
  if (area === 'pool') return below.length < 4 ? DIR : below.length === 4 ? gateway() : NONE
  if (area !== 'dists') return NONE
  if (below.length <= 1) return DIR
  const last = below.at(-1)!
  // dists/<suite>/<component>/binary-<arch>/Packages.xz, …/by-hash/SHA256/<hex>, dists/<suite>/InRelease
  if (below.at(-3) === 'by-hash' || APT_FILES.has(last) || last.includes('.') || last.startsWith('Translation-') || last.startsWith('Contents-')) return gateway()
  return DIR
}

function oci (registry: string, rest: string[]): Shape {
  const blobs = rest.indexOf('blobs')
  const manifests = rest.indexOf('manifests')
  const at = blobs > 0 ? blobs : manifests > 0 ? manifests : -1
  if (at < 0) return DIR // the repository's own segments: library/alpine
  const repository = enc(rest.slice(0, at))
  const below = rest.slice(at + 1)
  if (at === blobs) {
    if (below.length === 0 || (below.length === 1 && ALGORITHMS.has(below[0]!))) return DIR
    return below.length === 2 && ALGORITHMS.has(below[0]!) && /^[0-9a-f]{64,128}$/.test(below[1]!) ? file(`/v2/${enc([registry])}/${repository}/blobs/${below[0]}:${below[1]}`) : NONE
  }
  return below.length === 0 ? DIR : below.length === 1 ? file(`/v2/${enc([registry])}/${repository}/manifests/${encodeURIComponent(below[0]!)}`) : NONE
}

function cargo (rest: string[]): Shape {
  // cargo/<name>/api/v1/crates/<crate>/<version>/download
  const fixed = [undefined, 'api', 'v1', 'crates']
  if (rest.length <= 6) return rest.every((s, i) => fixed[i] === undefined || fixed[i] === s) ? DIR : NONE
  return rest.length === 7 && rest[6] === 'download' && rest.slice(1, 4).join('/') === 'api/v1/crates' ? file(`/cargo/${enc(rest)}`) : NONE
}

function dds (rest: string[]): Shape {
  if (rest.length <= 1) return DIR
  if (rest.length === 2 && rest[1] === 'repo.db.gz') return file(`/dds/${enc(rest)}`)
  if (rest[1] !== 'pkg') return NONE
  if (rest.length <= 4) return DIR
  return rest.length === 5 && rest[4] === 'sdist.tar.gz' ? file(`/dds/${enc(rest)}`) : NONE
}
