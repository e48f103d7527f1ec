import type { Logger } from 'pino'
import { BadRequestError, DpmError, NotFoundError } from '../errors.ts'
import type { IndexRecord } from '../index/index-record.ts'
import type { UpstreamClient } from '../pull/upstream-client.ts'
import { openCatalogDb, type PackageRow } from './catalog-db.ts'
import { isRepositoryName } from './dds-package-id.ts'
import { detectFormat } from './detect-format.ts'
import { readAptListing } from './listings/apt.ts'
import { readDdsListing } from './listings/dds.ts'
import type { ListingReader, PulledListing } from './listings/listing-reader.ts'
import { cachedNpmPackages } from './listings/npm.ts'
import { readPypiListing } from './listings/pypi.ts'
import { nameFromUrl, normalizeRepositoryUrl } from './repo-url.ts'
import { FORMATS, REPOSITORY_NAME, type AptOptions, type Repository, type RepositoryFormat } from './repository.ts'
import { searchPackages, type CatalogAnswer } from './search-packages.ts'

/** A repository as `repo ls` shows it. */
export interface RepositoryInfo extends Repository { packages: number }

export interface AddRequest {
  url: string
  format?: string
  name?: string
  /** `false`: register only (`--no-update`). */
  update?: boolean
  suites?: string[]
  components?: string[]
  architectures?: string[]
}

/** What pulling one repository's listing came to. */
export interface UpdateResult {
  name: string
  format: RepositoryFormat
  /** `updated`: the listing was imported; `not-modified`: the upstream answered 304, skipped; `cached`: npm, whose catalog is the cache; `not-pulled`: `--no-update`. */
  status: 'updated' | 'not-modified' | 'cached' | 'failed' | 'not-pulled'
  packages: number
  error?: string
  /** A dds repository that now declares another name was renamed to it. */
  renamedFrom?: string
}

export interface Catalog {
  list(): Promise<RepositoryInfo[]>
  add(request: AddRequest): Promise<{ repository: RepositoryInfo, update: UpdateResult }>
  remove(name: string): Promise<{ name: string, packages: number }>
  /** Re-pulls every listing (or those named); one failing leaves its previous listing and the others go on. */
  update(names?: string[]): Promise<UpdateResult[]>
  search(query: string, init?: { limit?: number }): Promise<CatalogAnswer>
  repositories(): Repository[]
  /**
   * What the dds adapter serves at `/dds/<name>/`: the dds repositories, and
   * removed ones too, so what the node cached from them stays available.
   */
  ddsRepositories(): Array<{ name: string, url: string }>
  close(): void
}

export interface CatalogInit {
  dbFile: string
  tmpDir: string
  /** The node's npm upstream: the one npm registry whose packages it can list (those it cached). */
  npmUpstream?: string
  /** The node's architecture, apt's default. */
  defaultArchitecture: string
}

export interface CatalogComponents {
  upstream: Pick<UpstreamClient, 'fetch'>
  index: { all(): AsyncIterable<IndexRecord> }
  log: Logger
  now?: () => number
  /** Aborts pulls under way when the node stops. */
  signal?: AbortSignal
  /** Hears the repositories after every change (the dds adapter serves the dds ones). */
  onChange?(repositories: Repository[]): void
}

const READERS: Record<Exclude<RepositoryFormat, 'npm'>, ListingReader> = { dds: readDdsListing, apt: readAptListing, pypi: readPypiListing }
/** How long one listing may take to come. */
const PULL_TIMEOUT_MS = 10 * 60_000
export const MAX_SEARCH_RESULTS = 100_000

/**
 * The package catalog (the dds model): registered repositories and their
 * listings in SQLite under the data dir, npm's part read from the cache.
 * Changes are made one at a time.
 */
export function createCatalog (init: CatalogInit, components: CatalogComponents): Catalog {
  const db = openCatalogDb(init.dbFile)
  const now = components.now ?? Date.now
  let queue: Promise<unknown> = Promise.resolve()
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work)
    queue = run.catch(() => {})
    return run
  }
  const changed = (): void => { components.onChange?.(db.repositories()) }
  const signal = (): AbortSignal => AbortSignal.any([AbortSignal.timeout(PULL_TIMEOUT_MS), ...(components.signal === undefined ? [] : [components.signal])])
  const npmUpstream = init.npmUpstream === undefined ? undefined : normalizeRepositoryUrl(init.npmUpstream).href

  async function info (repository: Repository, counts?: Map<string, number>): Promise<RepositoryInfo> {
    const packages = repository.format === 'npm' ? (await cachedNpmPackages(components.index)).length : (counts ?? db.packageCounts()).get(repository.name) ?? 0
    return { ...repository, packages }
  }

  async function pull (repository: Repository, fresh: boolean): Promise<PulledListing> {
    if (repository.format === 'npm') return { sources: [] }
    return await READERS[repository.format](repository, fresh ? [] : db.validators(repository.name), { upstream: components.upstream, tmpDir: init.tmpDir, signal: signal() })
  }

  /** A name the commands take; a dds repository's also one `/dds/<name>/` serves. */
  function checkedName (name: string, what: string, format: RepositoryFormat): string {
    if (format === 'dds' && !isRepositoryName(name)) throw new BadRequestError(`${what} "${name.slice(0, 100)}" cannot name a dds repository served at /dds/<name>/ (lower-case letters, digits, "_", "-"; at most 64)`)
    if (!REPOSITORY_NAME.test(name)) throw new BadRequestError(`${what} "${name.slice(0, 100)}" is not a usable repository name (letters, digits, ".", "_", "-"; a letter or digit first; at most 100)`)
    return name
  }

  async function updateOne (repository: Repository): Promise<UpdateResult> {
    const base = { name: repository.name, format: repository.format }
    if (repository.format === 'npm') return { ...base, status: 'cached', packages: (await cachedNpmPackages(components.index)).length }
    try {
      const listing = await pull(repository, false)
      const unchanged = listing.sources.every((s) => s.packages === undefined)
      let rename: string | undefined
      if (listing.declaredName !== undefined && listing.declaredName !== repository.name && isRepositoryName(listing.declaredName) && db.repository(listing.declaredName) === undefined) rename = listing.declaredName
      db.replaceListing(repository.name, listing.sources, now(), rename)
      const name = rename ?? repository.name
      const packages = db.packageCounts().get(name) ?? 0
      if (rename !== undefined) components.log.info({ from: repository.name, to: rename }, 'a repository declares a new name: renamed')
      return { ...base, name, status: unchanged && rename === undefined ? 'not-modified' : 'updated', packages, ...(rename === undefined ? {} : { renamedFrom: repository.name }) }
    } catch (err) {
      if (!(err instanceof DpmError) && !isAbort(err)) throw err
      components.log.warn({ repository: repository.name, err: (err as Error).message }, 'could not update a repository listing')
      return { ...base, status: 'failed', packages: db.packageCounts().get(repository.name) ?? 0, error: (err as Error).message }
    }
  }

  return {
    repositories: () => db.repositories(),
    ddsRepositories () {
      const current = db.repositories().filter((r) => r.format === 'dds')
      return [...current.map(({ name, url }) => ({ name, url })), ...db.retired().filter((r) => !current.some((c) => c.name === r.name))]
    },

    async list () {
      const counts = db.packageCounts()
      return await Promise.all(db.repositories().map(async (r) => await info(r, counts)))
    },

    add: async (request) => await serially(async () => {
      const root = normalizeRepositoryUrl(request.url)
      const suites = request.suites ?? []
      let format: RepositoryFormat
      if (request.format !== undefined) {
        if (!(FORMATS as readonly string[]).includes(request.format)) throw new BadRequestError(`unknown format "${request.format.slice(0, 50)}": one of ${FORMATS.join(', ')}`)
        format = request.format as RepositoryFormat
      } else {
        format = await detectFormat({ given: request.url, root, suites, npmUpstream, upstream: components.upstream, signal: signal() })
      }
      if (format !== 'apt' && (suites.length > 0 || (request.components ?? []).length > 0 || (request.architectures ?? []).length > 0)) {
        throw new BadRequestError(`suites, components and architectures are for apt repositories, not ${format}`)
      }
      if (format === 'npm' && root.href !== npmUpstream) {
        throw new BadRequestError(npmUpstream === undefined
          ? 'this node serves no npm registry (DPM_NPM_UPSTREAM): there is no npm catalog to add'
          : `an npm registry has no full listing: its catalog is what this node cached from its own npm upstream (DPM_NPM_UPSTREAM, ${npmUpstream}), so that is the one npm registry it can list`)
      }
      const apt: AptOptions | undefined = format === 'apt'
        ? { suites, components: request.components?.length ? request.components : ['main'], architectures: request.architectures?.length ? request.architectures : [init.defaultArchitecture] }
        : undefined
      if (format === 'apt' && suites.length === 0) throw new BadRequestError('an apt repository needs a suite: URL SUITE [COMPONENT...] as in a deb line, or --suite')
      const same = db.repositories().find((r) => r.url === root.href && r.format === format && JSON.stringify(r.apt) === JSON.stringify(apt))
      if (same !== undefined) throw new ConflictError(`${root.href} is registered already, as "${same.name}"`)

      const draft: Repository = { name: '', url: root.href, format, ...(apt === undefined ? {} : { apt }), addedAt: now() }
      const pulled = request.update === false ? undefined : await pull(draft, true)
      const name = pulled?.declaredName !== undefined
        ? checkedName(pulled.declaredName, 'the repository declares the name', format)
        : checkedName(request.name ?? nameFromUrl(root, format), request.name === undefined ? 'the name derived from the URL,' : 'the name', format)
      if (db.repository(name) !== undefined) throw new ConflictError(`a repository named "${name}" exists already${pulled?.declaredName !== undefined ? ' (the name this repository declares)' : request.name === undefined ? ': give another with --name' : ''}`)
      const repository = { ...draft, name }
      db.insert(repository, format === 'npm' ? undefined : pulled?.sources)
      changed()
      const stored = db.repository(name)!
      const shown = await info(stored)
      components.log.info({ repository: name, format, url: root.href, packages: shown.packages }, 'repository added')
      return { repository: shown, update: { name, format, status: format === 'npm' ? 'cached' : pulled === undefined ? 'not-pulled' : 'updated', packages: shown.packages } }
    }),

    remove: async (name) => await serially(async () => {
      if (db.repository(name) === undefined) throw new NotFoundError(`no repository is named "${name.slice(0, 100)}"${suggestion(name)}`)
      const packages = db.remove(name, now())
      changed()
      components.log.info({ repository: name, packages }, 'repository removed')
      return { name, packages }
    }),

    update: async (names) => await serially(async () => {
      const all = db.repositories()
      for (const name of names ?? []) if (!all.some((r) => r.name === name)) throw new NotFoundError(`no repository is named "${name.slice(0, 100)}"${suggestion(name)}`)
      const results: UpdateResult[] = []
      for (const repository of all) {
        if (names !== undefined && !names.includes(repository.name)) continue
        results.push(await updateOne(repository))
      }
      if (results.some((r) => r.renamedFrom !== undefined)) changed()
      return results
    }),

    async search (query, options = {}) {
      const npm = db.repositories().filter((r) => r.format === 'npm')
      const cached = npm.length === 0 ? [] : await cachedNpmPackages(components.index)
      function * rows (): Generator<PackageRow> {
        yield * db.allPackages()
        for (const repository of npm) for (const p of cached) yield { repository: repository.name, format: 'npm', name: p.name, version: p.version ?? null, description: null }
      }
      return searchPackages(rows(), query, { limit: Math.min(options.limit ?? MAX_SEARCH_RESULTS, MAX_SEARCH_RESULTS) })
    },

    close: () => { db.close() }
  }

  function suggestion (name: string): string {
    const names = db.repositories().map((r) => r.name)
    if (names.length === 0) return ': there are none (dpm repo add URL)'
    return `: there are ${names.slice(0, 10).map((n) => `"${n}"`).join(', ')}${names.length > 10 ? ` and ${names.length - 10} more` : ''}`
  }
}

/** Two things cannot both be: a name or URL registered already. */
export class ConflictError extends DpmError {
  override name = 'ConflictError'
  override readonly status = 409
}

function isAbort (err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')
}
