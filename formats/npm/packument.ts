import * as v from 'valibot'
import { UpstreamError } from '../../src/errors.ts'

export interface PackumentVersion {
  name?: string
  version: string
  dist: { tarball: string, integrity?: string, shasum?: string, [field: string]: unknown }
  [field: string]: unknown
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)
const isOptionalString = (x: unknown): boolean => x === undefined || typeof x === 'string'

/**
 * A version as the node relies on it, checked where it lies: valibot's object
 * schemas copy every field of what they check, and a packument has thousands of
 * versions (checking typescript's 10.5 MB took 10–15 ms, most of it copying).
 */
const Version = v.custom<PackumentVersion>((x) =>
  isRecord(x) && typeof x.version === 'string' && isOptionalString(x.name) &&
  isRecord(x.dist) && typeof x.dist.tarball === 'string' && isOptionalString(x.dist.integrity) && isOptionalString(x.dist.shasum),
'a version needs a "version" string and a "dist" object with a "tarball" string')

/** The parts of a packument the node relies on; every other field passes through untouched. */
export const PackumentSchema = v.looseObject({
  name: v.string(),
  'dist-tags': v.optional(v.record(v.string(), v.string()), {}),
  versions: v.optional(v.record(v.string(), Version), {}),
  modified: v.optional(v.string()),
  // one entry per version too, and read only for `modified`: not copied either
  time: v.optional(v.custom<Record<string, unknown>>(isRecord, '"time" must be an object'))
})

export type Packument = v.InferOutput<typeof PackumentSchema>

export function parsePackument (bytes: Uint8Array): Packument {
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (err) {
    throw new UpstreamError('upstream packument is not valid JSON', { cause: err })
  }
  const result = v.safeParse(PackumentSchema, json)
  if (!result.success) throw new UpstreamError(`upstream packument is malformed: ${v.summarize(result.issues).split('\n')[0]}`)
  return result.output
}

/**
 * The file name a tarball URL ends with, e.g. `lodash-4.17.21.tgz`. Cut from the
 * string, not parsed as a URL: it runs for every version of every packument
 * rendered, and `new URL` was most of the time rendering took.
 */
export function tarballFile (tarballUrl: string): string | undefined {
  const end = tarballUrl.search(/[?#]/)
  const path = end === -1 ? tarballUrl : tarballUrl.slice(0, end)
  try {
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1))
  } catch {
    return undefined
  }
}

/** The version a tarball of package `name` is named after (`<name>-<version>.tgz`), else ''. */
export function versionNamedIn (name: string, file: string): string {
  const prefix = `${name.slice(name.lastIndexOf('/') + 1)}-`
  return file.startsWith(prefix) && file.endsWith('.tgz') ? file.slice(prefix.length, -'.tgz'.length) : ''
}

/**
 * The version whose tarball is `file`: by its name (`<name>-<version>.tgz`, the
 * registry's layout) at once, else by looking through every version — a
 * packument may have thousands, and an install asks this once per tarball.
 */
export function versionWithTarball<V extends { dist: { tarball: string } }> (doc: { name: string, versions: Record<string, V> }, file: string): V | undefined {
  const id = versionNamedIn(doc.name, file)
  // own keys only: `x-constructor.tgz` must not find Object's constructor
  const named = Object.hasOwn(doc.versions, id) ? doc.versions[id] : undefined
  if (named !== undefined && tarballFile(named.dist.tarball) === file) return named
  return Object.values(doc.versions).find((v) => tarballFile(v.dist.tarball) === file)
}
