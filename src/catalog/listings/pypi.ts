import * as v from 'valibot'
import { isJson, parseHtml, parseJson } from '../../../formats/pypi/documents.ts'
import { BadRequestError, NotFoundError, UpstreamError } from '../../errors.ts'
import { fetchListing } from '../fetch-listing.ts'
import { MAX_LISTING_BYTES, type ListingReader } from './listing-reader.ts'

const API = { errors: { BadRequestError, NotFoundError, UpstreamError }, v }
const ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1'

/**
 * A PEP 503/691 index's listing: its root page (`/simple/`), JSON or HTML,
 * which names projects only — their versions are on each project's own page,
 * so the catalog lists them without versions.
 */
export const readPypiListing: ListingReader = async (repository, previous, context) => {
  const source = previous.find((s) => s.url === repository.url) ?? { url: repository.url }
  const fetched = await fetchListing(context.upstream, source, { maxBytes: MAX_LISTING_BYTES, signal: context.signal, accept: ACCEPT })
  if (fetched.kind === 'not-modified') return { sources: [{ ...source }] }
  if (fetched.kind === 'missing') throw new UpstreamError(`${repository.url} answered ${fetched.status}: is it a PEP 503 index's root (…/simple/)?`)
  const chunks: Uint8Array[] = []
  for await (const chunk of fetched.body) chunks.push(chunk)
  const bytes = Buffer.concat(chunks)
  const text = new TextDecoder().decode(bytes)
  const page = isJson(bytes) ? parseJson(text, 'index', repository.url, API) : parseHtml(text, 'index', repository.url, API)
  if (page.kind !== 'index') throw new UpstreamError(`${repository.url} is not a PEP 503 project list`)
  const names = page.projects.filter((name) => /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name))
  // an HTML page with no project links is not an index (a web server's error page, a login form)
  if (names.length === 0 && !isJson(bytes) && !/<a\s/i.test(text) && !/pypi:repository-version/.test(text)) {
    throw new UpstreamError(`${repository.url} is not a PEP 503 index: its page links no projects`)
  }
  return { sources: [{ url: fetched.url, etag: fetched.etag, lastModified: fetched.lastModified, packages: [...new Set(names)].map((name) => ({ name })) }] }
}
