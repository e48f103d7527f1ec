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

/** The file name a tarball URL ends with, e.g. `lodash-4.17.21.tgz`. */
export function tarballFile (tarballUrl: string): string | undefined {
  try {
    return decodeURIComponent(new URL(tarballUrl).pathname.split('/').at(-1) ?? '')
  } catch {
    return undefined
  }
}
