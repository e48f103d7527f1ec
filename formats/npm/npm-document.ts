import { abbreviate } from './abbreviate.ts'
import { loadPackumentAddon, type NativeAbbreviation } from './native-packument.ts'
import { parsePackument, tarballFile, versionNamedIn, versionWithTarball, type Packument, type PackumentVersion } from './packument.ts'

type Dist = PackumentVersion['dist']

/**
 * A stored packument as the adapter uses it: the abbreviated form, the dist of
 * the version a tarball belongs to, and, only when a full or one-version answer
 * needs it, the whole document as JS objects.
 */
export interface NpmDocument {
  name: string
  /** The abbreviated ("corgi") document, its tarball links under `baseUrl`. */
  abbreviated(baseUrl: string): Buffer | string
  /** The dist of the version whose tarball is `file`. */
  tarballDist(file: string): Dist | undefined
  /** The whole packument, parsed on first use. */
  packument(): Packument
}

const addon = loadPackumentAddon()
/** Whether packuments are read by the addon (else all in JS). */
export const NATIVE_PACKUMENTS = addon !== undefined

/**
 * Reads an upstream packument, refusing a malformed one (UpstreamError). With the
 * addon, the bytes are abbreviated and indexed without becoming JS objects: on
 * the install bench's 410 packuments that cost the node ~1.2 s of CPU in
 * JSON.parse, JSON.stringify and garbage collection. Without it, or for a
 * document it leaves to JS, the JS path does all of it.
 */
export function readPackument (bytes: Uint8Array, init: { native?: boolean } = {}): NpmDocument {
  return documentOf(bytes, init.native === false ? undefined : addon?.abbreviate(bytes))
}

/**
 * From this size the node abbreviates a packument on the thread pool: at ~4 ms
 * per MB on this machine's cores, a larger one would hold every other request
 * waiting on the event loop (typescript's 10.5 MB, ~15–40 ms). Smaller ones stay
 * on the loop, where they take less than the hop to a pool thread would save.
 */
export const OFF_THREAD_BYTES = 256 * 1024

/** `readPackument` as the node reads an upstream packument: a large one off the event loop. */
export async function loadPackument (bytes: Uint8Array): Promise<NpmDocument> {
  if (addon === undefined || bytes.byteLength < OFF_THREAD_BYTES) return readPackument(bytes)
  return documentOf(bytes, await addon.abbreviateOffThread(bytes))
}

/** The document from the addon's reading of `bytes`, else (undefined: left to JS) from the JS path's. */
function documentOf (bytes: Uint8Array, native: NativeAbbreviation | undefined): NpmDocument {
  return native === undefined ? parsedDocument(parsePackument(bytes)) : nativeDocument(bytes, native)
}

/** The link a client is given for a version's tarball: through the node, under `baseUrl`. */
export function tarballLink (baseUrl: string, name: string, tarball: string): string {
  const file = tarballFile(tarball)
  return file === undefined ? tarball : `${baseUrl}${name}/-/${encodeURIComponent(file)}`
}

function parsedDocument (doc: Packument): NpmDocument {
  return {
    name: doc.name,
    abbreviated: (baseUrl) => JSON.stringify(abbreviate(doc, (version) => tarballLink(baseUrl, doc.name, version.dist.tarball))),
    tarballDist: (file) => versionWithTarball(doc, file)?.dist,
    packument: () => doc
  }
}

function nativeDocument (bytes: Uint8Array, [name, body, bases, dists]: NativeAbbreviation): NpmDocument {
  let versions: Record<string, { dist: Dist }> | undefined
  let parsed: Packument | undefined
  return {
    name,
    abbreviated (baseUrl) {
      const base = Buffer.from(JSON.stringify(baseUrl).slice(1, -1))
      const parts: Buffer[] = []
      let from = 0
      for (const at of bases) {
        parts.push(body.subarray(from, at), base)
        from = at
      }
      parts.push(body.subarray(from))
      return Buffer.concat(parts)
    },
    tarballDist (file) {
      // the registry's layout found in the flat list, without a dist object for every version (typescript has ~3500)
      const id = versionNamedIn(name, file)
      for (let i = 0; i < dists.length; i += 4) {
        if (dists[i] === id) {
          if (tarballFile(dists[i + 1]!) === file) return distAt(dists, i)
          break
        }
      }
      versions ??= distsById(dists)
      return versionWithTarball({ name, versions }, file)?.dist
    },
    packument: () => (parsed ??= parsePackument(bytes))
  }
}

/** The addon's flat list, four entries per version, as version id → dist. */
function distsById (dists: Array<string | undefined>): Record<string, { dist: Dist }> {
  const versions: Record<string, { dist: Dist }> = {}
  for (let i = 0; i < dists.length; i += 4) versions[dists[i]!] = { dist: distAt(dists, i) }
  return versions
}

/** The dist of the version at `at` in the addon's flat list. */
function distAt (dists: Array<string | undefined>, at: number): Dist {
  const dist: Dist = { tarball: dists[at + 1]! }
  if (dists[at + 2] !== undefined) dist.integrity = dists[at + 2]
  if (dists[at + 3] !== undefined) dist.shasum = dists[at + 3]
  return dist
}
