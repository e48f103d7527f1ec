import { createGunzip } from 'node:zlib'
import { Readable } from 'node:stream'
import { xz } from '@napi-rs/lzma'
import type { ListedArtifact, PluginApi } from '../index.ts'

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
      yield { key: `${keyPrefix}${entry.path}`, location: { url: entry.path.split('/').map(encodeURIComponent).join('/'), digests: [{ algorithm: 'sha256', hex: entry.sha256 }], size: entry.size } }
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

type Stanza = Map<string, string>

/** Deb822 paragraphs: `Field: value`, continuation lines starting with a space, a blank line between. */
async function * stanzas (text: AsyncIterable<Buffer | string>): AsyncGenerator<Stanza> {
  let stanza: Stanza = new Map()
  let field: string | undefined
  let rest = ''
  const decoder = new TextDecoder()
  for await (const chunk of text) {
    const lines = (rest + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))).split('\n')
    rest = lines.pop()!
    for (const line of lines) {
      if (line === '' || line === '\r') {
        if (stanza.size > 0) yield stanza
        stanza = new Map()
        field = undefined
      } else if (line.startsWith(' ') || line.startsWith('\t')) {
        if (field !== undefined) stanza.set(field, `${stanza.get(field)}\n${line.trim()}`)
      } else {
        const colon = line.indexOf(':')
        if (colon === -1) continue
        field = line.slice(0, colon).toLowerCase()
        stanza.set(field, line.slice(colon + 1).trim())
      }
    }
  }
  if (rest !== '') {
    const colon = rest.indexOf(':')
    if (colon !== -1) stanza.set(rest.slice(0, colon).toLowerCase(), rest.slice(colon + 1).trim())
  }
  if (stanza.size > 0) yield stanza
}

interface PoolEntry { path: string, sha256: string, size: number }

const HEX64 = /^[0-9a-f]{64}$/
/** A repository-relative path that stays inside the repository. */
const isPoolPath = (path: string): boolean => path !== '' && !path.startsWith('/') && !path.split('/').some((s) => s === '' || s === '.' || s === '..')

function binaryEntry (stanza: Stanza): PoolEntry[] {
  const path = stanza.get('filename') ?? ''
  const sha256 = stanza.get('sha256') ?? ''
  const size = Number(stanza.get('size'))
  return isPoolPath(path) && HEX64.test(sha256) && Number.isSafeInteger(size) ? [{ path, sha256, size }] : []
}

/** A source package's files (`.dsc`, tarballs) in its `Directory`, from `Checksums-Sha256`. */
function sourceEntries (stanza: Stanza): PoolEntry[] {
  const directory = stanza.get('directory') ?? ''
  return (stanza.get('checksums-sha256') ?? '').split('\n').flatMap((line) => {
    const [sha256 = '', size, name = ''] = line.trim().split(/\s+/)
    const path = `${directory}/${name}`
    return isPoolPath(path) && !name.includes('/') && HEX64.test(sha256) && Number.isSafeInteger(Number(size)) ? [{ path, sha256, size: Number(size) }] : []
  })
}
