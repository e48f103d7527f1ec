import * as v from 'valibot'
import { UpstreamError } from '../../src/errors.ts'

const Dist = v.looseObject({
  tarball: v.string(),
  integrity: v.optional(v.string()),
  shasum: v.optional(v.string())
})

const Version = v.looseObject({
  name: v.optional(v.string()),
  version: v.string(),
  dist: Dist
})

/** The parts of a packument the node relies on; every other field passes through untouched. */
export const PackumentSchema = v.looseObject({
  name: v.string(),
  'dist-tags': v.optional(v.record(v.string(), v.string()), {}),
  versions: v.optional(v.record(v.string(), Version), {}),
  modified: v.optional(v.string()),
  time: v.optional(v.record(v.string(), v.unknown()))
})

export type Packument = v.InferOutput<typeof PackumentSchema>
export type PackumentVersion = v.InferOutput<typeof Version>

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

/**
 * The version whose tarball is `file`: by its name (`<name>-<version>.tgz`, the
 * registry's layout) at once, else by looking through every version — a
 * packument may have thousands, and an install asks this once per tarball.
 */
export function versionWithTarball (doc: Packument, file: string): PackumentVersion | undefined {
  const prefix = `${doc.name.slice(doc.name.lastIndexOf('/') + 1)}-`
  const id = file.startsWith(prefix) && file.endsWith('.tgz') ? file.slice(prefix.length, -'.tgz'.length) : ''
  // own keys only: `x-constructor.tgz` must not find Object's constructor
  const named = Object.hasOwn(doc.versions, id) ? doc.versions[id] : undefined
  if (named !== undefined && tarballFile(named.dist.tarball) === file) return named
  return Object.values(doc.versions).find((v) => tarballFile(v.dist.tarball) === file)
}
