import { parseQuery } from '../index/search-cached.ts'
import type { PackageRow } from './catalog-db.ts'
import { closestNames } from './closest-names.ts'
import type { RepositoryFormat } from './repository.ts'
import { compareVersions } from './version-order.ts'

/** One package name of the catalog: its versions (sorted by version) and the repositories that list it. */
export interface PackageMatch {
  name: string
  versions: string[]
  from: string[]
  description?: string
  /** Why `versions` is short or empty: a listing that names packages only. */
  versionsNote?: string
}

export interface CatalogAnswer {
  query: string
  packages: PackageMatch[]
  /** More names matched than `packages` holds. */
  truncated: boolean
  /** When nothing matched: the names nearest to the query. */
  suggestions: string[]
}

/** Why a repository of a format lists a package without versions. */
const NO_VERSIONS: Partial<Record<RepositoryFormat, string>> = {
  pypi: 'not in the listing: a PEP 503 index names each project\'s versions on the project\'s own page',
  npm: 'none cached: an npm registry has no full listing, the catalog holds what this node has cached'
}

/**
 * Catalog rows whose package name matches `query` (a case-insensitive glob over
 * the whole name), grouped by name, sorted by name; when none does, the closest
 * names as suggestions.
 */
export function searchPackages (rows: Iterable<PackageRow>, query: string, init: { limit: number }): CatalogAnswer {
  const glob = parseQuery(query)
  const groups = new Map<string, { versions: Set<string>, from: Set<string>, formats: Set<RepositoryFormat>, unversioned: Set<RepositoryFormat>, description?: string }>()
  const names = new Set<string>()
  for (const row of rows) {
    names.add(row.name)
    if (!glob.matches(row.name)) continue
    let group = groups.get(row.name)
    if (group === undefined) groups.set(row.name, group = { versions: new Set(), from: new Set(), formats: new Set(), unversioned: new Set() })
    group.from.add(row.repository)
    group.formats.add(row.format)
    if (row.version === null) group.unversioned.add(row.format)
    else group.versions.add(row.version)
    if (group.description === undefined && row.description !== null && row.description !== '') group.description = row.description
  }
  const sorted = [...groups].sort(([a], [b]) => a.toLowerCase().localeCompare(b.toLowerCase()) || (a < b ? -1 : a > b ? 1 : 0))
  const packages = sorted.slice(0, init.limit).map(([name, g]): PackageMatch => {
    const format = g.formats.size === 1 && g.formats.has('apt') ? 'apt' : 'semver'
    const note = [...g.unversioned].map((f) => NO_VERSIONS[f]).find((n) => n !== undefined)
    return {
      name,
      versions: [...g.versions].sort((a, b) => compareVersions(format, a, b)),
      from: [...g.from].sort(),
      ...(g.description === undefined ? {} : { description: g.description }),
      ...(g.versions.size === 0 && note !== undefined ? { versionsNote: note } : {})
    }
  })
  return { query, packages, truncated: sorted.length > init.limit, suggestions: packages.length === 0 ? closestNames(query, names) : [] }
}
