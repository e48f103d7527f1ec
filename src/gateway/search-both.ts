import type { Catalog } from '../catalog/catalog.ts'
import type { PackageMatch } from '../catalog/search-packages.ts'
import type { IndexRecord } from '../index/index-record.ts'
import { parseQuery, searchCached, type SearchResult } from '../index/search-cached.ts'

/** What `/-/api/search` and the dashboard's search answer: the catalog's packages, and the cached records. */
export interface SearchAnswer {
  query: string
  /** Catalog packages whose name matches: name, versions (sorted by version), from (repositories). */
  packages: PackageMatch[]
  packagesTruncated: boolean
  /** When no package matched: the closest names in the catalog. */
  suggestions: string[]
  /** Cached records whose key (or a tail of it) matches. */
  cached: SearchResult[]
  /** More cached records matched than `cached` holds. */
  truncated: boolean
}

export async function searchBoth (components: { index: { all(): AsyncIterable<IndexRecord> }, catalog?: Pick<Catalog, 'search'> }, query: string, init: { limit?: number } = {}): Promise<SearchAnswer> {
  parseQuery(query) // a bad glob is refused before anything is read
  const [catalog, cached] = await Promise.all([
    components.catalog?.search(query, { limit: init.limit }),
    searchCached(components, query)
  ])
  return {
    query,
    packages: catalog?.packages ?? [],
    packagesTruncated: catalog?.truncated ?? false,
    suggestions: catalog?.suggestions ?? [],
    cached: cached.results,
    truncated: cached.truncated
  }
}
