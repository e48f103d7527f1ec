import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { DpmError, UpstreamError } from '../../errors.ts'
import { readDdsRepository, type DdsRepository } from '../dds-repo-db.ts'
import { capped, fetchListing } from '../fetch-listing.ts'
import { MAX_LISTING_BYTES, type ListingReader } from './listing-reader.ts'

/** A `repo.db` unpacked from its `.gz` may be this large at most. */
const MAX_DB_BYTES = 2 * 1024 * 1024 * 1024

/**
 * A dds repository's listing: its `repo.db.gz`, gunzipped to a temporary file
 * and read as SQLite — the name it declares (`dds_repo_meta.name`) and every
 * package with its description and dependencies.
 */
export const readDdsListing: ListingReader = async (repository, previous, context) => {
  const url = `${repository.url}repo.db.gz`
  const source = previous.find((s) => s.url === url) ?? { url }
  const fetched = await fetchListing(context.upstream, source, { maxBytes: MAX_LISTING_BYTES, signal: context.signal })
  if (fetched.kind === 'not-modified') return { sources: [{ ...source }] }
  if (fetched.kind === 'missing') throw new UpstreamError(`${url} answered ${fetched.status}: is ${repository.url} a dds repository?`)
  const file = join(context.tmpDir, `catalog-${randomUUID()}.db`)
  let listed: DdsRepository
  try {
    try {
      await pipeline(Readable.from(fetched.body), createGunzip(), async function * (chunks: AsyncIterable<Uint8Array>) { yield * capped(chunks, MAX_DB_BYTES, `${url} unpacked`) }, createWriteStream(file), { signal: context.signal })
      listed = readDdsRepository(file)
    } catch (err) {
      if (err instanceof DpmError || context.signal.aborted) throw err
      throw new UpstreamError(`${url} is not a dds repository database: ${(err as Error).message}`, { cause: err })
    }
  } finally {
    await rm(file, { force: true })
    await rm(`${file}-journal`, { force: true })
  }
  return {
    declaredName: listed.name,
    sources: [{
      url,
      etag: fetched.etag,
      lastModified: fetched.lastModified,
      packages: listed.packages.map((p) => ({ name: p.name, version: p.version, description: p.description, dependencies: p.dependencies.map((d) => ({ name: d.name, range: d.range })) }))
    }]
  }
}
