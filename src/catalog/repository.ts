/** The kinds of repository the catalog can list. */
export const FORMATS = ['dds', 'apt', 'pypi', 'npm'] as const
export type RepositoryFormat = typeof FORMATS[number]

/** Which apt indexes to read: `dists/<suite>/<component>/binary-<arch>/Packages`. */
export interface AptOptions { suites: string[], components: string[], architectures: string[] }

/** A registered upstream repository. */
export interface Repository {
  name: string
  /** Its root, ending in `/` (a dds repository's directory, an apt archive's root, a PEP 503 index, an npm registry). */
  url: string
  format: RepositoryFormat
  apt?: AptOptions
  addedAt: number
  /** When its listing was last pulled or found unchanged; undefined until then. */
  checkedAt?: number
  /** When its listing last changed in the catalog. */
  importedAt?: number
}

export interface Dependency { name: string, range: string }

/** One version of one package, as a listing names it. */
export interface ListedPackage {
  name: string
  /** Undefined where the listing names projects only (a PEP 503 root page). */
  version?: string
  description?: string
  dependencies?: Dependency[]
}

/** What one listing document gave: its packages and the validators to ask with next time. */
export interface PulledSource {
  url: string
  etag?: string
  lastModified?: string
  /** `undefined`: the upstream answered 304, the stored rows stand. */
  packages?: ListedPackage[]
}

/** The validators kept for one listing document. */
export interface SourceValidators { url: string, etag?: string, lastModified?: string }

/** A repository name: what `/dds/<name>/` and the commands take. */
export const REPOSITORY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/
