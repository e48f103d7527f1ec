import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { xz } from '@napi-rs/lzma'
import { field, stanzas } from '../../../formats/apt/listing.ts'
import { DpmError, UpstreamError } from '../../errors.ts'
import { fetchListing } from '../fetch-listing.ts'
import type { Dependency, ListedPackage, PulledSource } from '../repository.ts'
import { MAX_LISTING_BYTES, type ListingReader } from './listing-reader.ts'

/** The forms an index may come in, in the order asked for: gzip streams, xz is decompressed whole. */
const VARIANTS = ['.gz', '.xz', '']

/**
 * An apt repository's listing: `dists/<suite>/<component>/binary-<arch>/Packages`
 * for every suite, component and architecture it was added with — each package's
 * name, version, description (its first line) and `Depends`.
 */
export const readAptListing: ListingReader = async (repository, previous, context) => {
  const { suites, components, architectures } = repository.apt ?? { suites: [], components: [], architectures: [] }
  if (suites.length === 0) throw new UpstreamError(`${repository.name}: an apt repository needs a suite (URL SUITE [COMPONENT...], or --suite)`)
  const sources: PulledSource[] = []
  for (const suite of suites) {
    for (const component of components) {
      for (const arch of architectures) {
        sources.push(await pullIndex(`${repository.url}dists/${suite}/${component}/binary-${arch}/Packages`))
      }
    }
  }
  return { sources }

  async function pullIndex (base: string): Promise<PulledSource> {
    // the form pulled last time first, with its validators
    const last = previous.find((s) => VARIANTS.some((v) => s.url === `${base}${v}`))
    const order = last === undefined ? VARIANTS.map((v) => ({ url: `${base}${v}` })) : [last, ...VARIANTS.map((v) => ({ url: `${base}${v}` })).filter((s) => s.url !== last.url)]
    for (const source of order) {
      const fetched = await fetchListing(context.upstream, source, { maxBytes: MAX_LISTING_BYTES, signal: context.signal })
      if (fetched.kind === 'missing') continue
      if (fetched.kind === 'not-modified') return { ...source }
      return { url: fetched.url, etag: fetched.etag, lastModified: fetched.lastModified, packages: await parsePackages(fetched.url, fetched.body, context) }
    }
    throw new UpstreamError(`no Packages index at ${base}{.gz,.xz,}: does the repository have that suite, component and architecture?`)
  }
}

async function parsePackages (url: string, body: AsyncIterable<Uint8Array>, context: { signal: AbortSignal }): Promise<ListedPackage[]> {
  const packages: ListedPackage[] = []
  try {
    const text = url.endsWith('.xz') ? Readable.from([await xz.decompress(Buffer.concat(await collect(body)))]) : url.endsWith('.gz') ? Readable.from(body).pipe(createGunzip()) : Readable.from(body)
    for await (const stanza of stanzas(text)) {
      if (stanza.trim() === '') continue
      const name = field(stanza, 'Package')
      const version = field(stanza, 'Version')
      if (name === undefined || version === undefined || !/^[a-z0-9][a-z0-9+.-]*$/.test(name)) {
        throw new UpstreamError(`${url} is not an apt Packages index: a paragraph without a valid Package and Version`)
      }
      const description = field(stanza, 'Description')
      packages.push({ name, version, ...(description === undefined ? {} : { description }), dependencies: dependencies(field(stanza, 'Depends')) })
    }
  } catch (err) {
    if (err instanceof DpmError || context.signal.aborted) throw err
    throw new UpstreamError(`${url} could not be read as an apt Packages index: ${(err as Error).message}`, { cause: err })
  }
  return packages
}

/** `libc6 (>= 2.34), a | b` → `[{ libc6, >= 2.34 }, { a | b, '' }]`. */
function dependencies (depends: string | undefined): Dependency[] {
  if (depends === undefined) return []
  return depends.split(',').map((item) => item.trim()).filter(Boolean).map((item) => {
    const match = /^([^\s(|]+)\s*\(([^)]*)\)$/.exec(item)
    return match === null ? { name: item, range: '' } : { name: match[1]!, range: match[2]!.trim() }
  })
}

async function collect (body: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = []
  for await (const chunk of body) chunks.push(chunk)
  return chunks
}
