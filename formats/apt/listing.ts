import { createGunzip } from 'node:zlib'
import { Readable } from 'node:stream'
import { xz } from '@napi-rs/lzma'
import type { ListedArtifact, PluginApi } from '../index.ts'
import { encodeSegments, isUnsafeSegment } from '../path-segments.ts'

/** Which index a listing is, and how it is compressed: `Packages.xz`, `Sources.gz`, `Packages`. */
export const LISTING = /(?:^|\/)(Packages|Sources)(\.xz|\.gz)?$/

/** An xz index is decompressed whole (there is no streaming xz here): Debian's largest, main's `Packages.xz`, is ~9 MB. */
const MAX_XZ_BYTES = 256 * 1024 * 1024

/**
 * The pool files an apt `Packages` or `Sources` index lists, with their SHA256
 * and size, keyed `<keyPrefix><pool path>`. URLs are relative to the repository's root.
 */
export async function * readListing (listing: string, bytes: AsyncIterable<Uint8Array>, keyPrefix: string, api: PluginApi): AsyncGenerator<ListedArtifact> {
  const [, kind, compression] = LISTING.exec(listing) ?? []
  if (kind === undefined) throw new api.errors.UpstreamError(`not a listing: ${listing}`)
  const text = compression === '.xz' ? Readable.from([await unxz(bytes, api)]) : compression === '.gz' ? Readable.from(bytes).pipe(createGunzip()) : Readable.from(bytes)
  for await (const stanza of stanzas(text)) {
    for (const entry of kind === 'Packages' ? binaryEntry(stanza) : sourceEntries(stanza)) {
      yield { key: `${keyPrefix}${entry.path}`, location: { url: encodeSegments(entry.path.split('/')), digests: [{ algorithm: 'sha256', hex: entry.sha256 }], size: entry.size } }
    }
  }
}

async function unxz (bytes: AsyncIterable<Uint8Array>, api: PluginApi): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of bytes) {
    total += chunk.byteLength
    if (total > MAX_XZ_BYTES) throw new api.errors.UpstreamError(`an xz index over ${MAX_XZ_BYTES} bytes`)
    chunks.push(chunk)
  }
  try {
    return await xz.decompress(Buffer.concat(chunks, total))
  } catch (err) {
    throw new api.errors.UpstreamError(`an xz index that does not decompress: ${(err as Error).message}`)
  }
}

/** Deb822 paragraphs, as text: a blank line between them (also read by the package catalog). */
export async function * stanzas (text: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let rest = ''
  for await (const chunk of text) {
    const paragraphs = (rest + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))).split(/\r?\n\r?\n/)
    rest = paragraphs.pop()!
    yield * paragraphs
  }
  rest += decoder.decode()
  if (rest.trim() !== '') yield rest
}

interface PoolEntry { path: string, sha256: string, size: number }

/** A field's first line; field names are case-insensitive. */
export const field = (stanza: string, name: string): string | undefined => fieldPattern(name).exec(stanza)?.[1]
const patterns = new Map<string, RegExp>()
function fieldPattern (name: string): RegExp {
  let pattern = patterns.get(name)
  if (pattern === undefined) patterns.set(name, pattern = new RegExp(`^${name}:[ \\t]*(.*?)\\r?$`, 'im'))
  return pattern
}
const HEX64 = /^[0-9a-f]{64}$/
/** A repository-relative path that stays inside the repository. */
const isPoolPath = (path: string): boolean => path.split('/').every((s) => s !== '' && !isUnsafeSegment(s))

function binaryEntry (stanza: string): PoolEntry[] {
  const path = field(stanza, 'Filename') ?? ''
  const sha256 = field(stanza, 'SHA256') ?? ''
  const size = Number(field(stanza, 'Size'))
  return isPoolPath(path) && HEX64.test(sha256) && Number.isSafeInteger(size) ? [{ path, sha256, size }] : []
}

/** A source package's files (`.dsc`, tarballs) in its `Directory`, from the lines of `Checksums-Sha256`. */
function sourceEntries (stanza: string): PoolEntry[] {
  const directory = field(stanza, 'Directory') ?? ''
  const lines = /^Checksums-Sha256:[^\n]*\n((?:[ \t][^\n]*(?:\n|$))*)/im.exec(stanza)?.[1] ?? ''
  return lines.split('\n').flatMap((line) => {
    const [sha256 = '', size, name = ''] = line.trim().split(/\s+/)
    const path = `${directory}/${name}`
    return isPoolPath(path) && !name.includes('/') && HEX64.test(sha256) && Number.isSafeInteger(Number(size)) ? [{ path, sha256, size: Number(size) }] : []
  })
}
