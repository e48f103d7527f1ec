import { BadRequestError } from '../errors.ts'
import { compileGlob, GlobError, type Glob } from '../catalog/glob.ts'
import type { IndexRecord } from './index-record.ts'

export interface SearchResult {
  format: string
  key: string
  size: number
  fetchedAt: number
}

export interface SearchAnswer {
  query: string
  results: SearchResult[]
  /** More records matched than `results` holds. */
  truncated: boolean
}

export const MAX_QUERY = 200
export const MAX_RESULTS = 100

/** Where a tail of a key may begin: `npm:tarball:lodash/-/…` has tails `tarball:…`, `lodash/-/…`, `lodash-4.17.21.tgz`. */
const BOUNDARIES = ':/'

/** A search query judged before any record is read: a readable glob, not empty, not too long, no control characters. */
export function parseQuery (query: string): Glob {
  if (query.trim() === '') throw new BadRequestError('the query is empty: give a glob such as "lodash*" (or leave q out for "*")')
  if (query.length > MAX_QUERY) throw new BadRequestError(`the query is ${query.length} characters long; at most ${MAX_QUERY}`)
  if (/[\u0000-\u001f\u007f]/.test(query)) throw new BadRequestError('the query contains control characters')
  try {
    return compileGlob(query)
  } catch (err) {
    if (err instanceof GlobError) throw new BadRequestError(`not a glob: ${err.message}`, { cause: err })
    throw err
  }
}

/**
 * What this node has cached whose key matches `query` (case-insensitive), or a
 * tail of its key that begins after a `:` or `/`. Until the package catalog
 * exists, this is the dashboard's search.
 */
export async function searchCached (components: { index: { all(): AsyncIterable<IndexRecord> } }, query: string, init: { limit?: number } = {}): Promise<SearchAnswer> {
  const glob = parseQuery(query)
  const limit = init.limit ?? MAX_RESULTS
  const results: SearchResult[] = []
  let truncated = false
  for await (const record of components.index.all()) {
    if (!glob.matchesTail(record.key, BOUNDARIES)) continue
    if (results.length === limit) { truncated = true; break }
    results.push({ format: record.key.slice(0, record.key.indexOf(':')), key: record.key, size: record.size, fetchedAt: record.fetchedAt })
  }
  results.sort((a, b) => a.key.localeCompare(b.key))
  return { query, results, truncated }
}
