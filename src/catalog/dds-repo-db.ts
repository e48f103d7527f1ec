import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { rangeOf } from './dds-version-range.ts'

/**
 * A dds repository's `repo.db`, in the schema dds's own `repoman` writes (schema
 * version 2: `dds_repo_meta`, `dds_repo_packages`, `dds_repo_package_deps` with a
 * `kind`), so a dds client can import it. `dpm_package_digests` is DPM's own: the
 * sha256 and size of each imported sdist, which dds does not record and ignores.
 */
const SCHEMA_VERSION = 2
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS dds_repo_meta (
    meta_version INTEGER DEFAULT 1,
    version INTEGER NOT NULL,
    name TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS dds_repo_packages (
    package_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    description TEXT NOT NULL,
    url TEXT NOT NULL,
    UNIQUE (name, version)
  );
  CREATE TABLE IF NOT EXISTS dds_repo_package_deps (
    dep_id INTEGER PRIMARY KEY,
    package_id INTEGER NOT NULL
      REFERENCES dds_repo_packages
      ON DELETE CASCADE,
    dep_name TEXT NOT NULL,
    low TEXT NOT NULL,
    high TEXT NOT NULL,
    kind TEXT NOT NULL,
    UNIQUE (package_id, dep_name, kind)
  );
  CREATE INDEX IF NOT EXISTS idx_deps_for_pkg ON dds_repo_package_deps (package_id);
  CREATE TABLE IF NOT EXISTS dpm_package_digests (
    package_id INTEGER PRIMARY KEY
      REFERENCES dds_repo_packages
      ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL
  );
`

export interface DdsDependency {
  name: string
  /** The range as dds writes it in a manifest: `^1.2.3`, `~1.2.3`, `=1.2.3`, `+1.2.3`, else `>=low <high`. */
  range: string
  low: string
  high: string
  /** `lib`, `test` or `app`; `lib` in repositories older than schema version 2. */
  kind: string
}

export interface DdsPackage {
  name: string
  version: string
  description: string
  /** As listed: `dds:name@version` for a package in the repository's `pkg/`, else where dds gets it. */
  url: string
  dependencies: DdsDependency[]
  /** The sdist's sha256 and size, when DPM's repoman imported it. */
  sha256?: string
  size?: number
}

export interface DdsRepository {
  name: string
  packages: DdsPackage[]
}

/** Reads a repository database from a file (a gunzipped `repo.db.gz`). Throws if it is not one. */
export function readDdsRepository (dbFile: string): DdsRepository {
  const db = new DatabaseSync(dbFile, { readOnly: true })
  try {
    return readFrom(db)
  } finally {
    db.close()
  }
}

/** The same from the database's bytes, without touching the disk. */
export function readDdsRepositoryBytes (bytes: Uint8Array): DdsRepository {
  const db = new DatabaseSync(':memory:')
  try {
    db.deserialize(bytes)
    return readFrom(db)
  } finally {
    db.close()
  }
}

function readFrom (db: DatabaseSync): DdsRepository {
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name))
  if (!tables.has('dds_repo_meta') || !tables.has('dds_repo_packages')) throw new Error('not a dds repository database (no dds_repo_meta / dds_repo_packages)')
  const meta = db.prepare('SELECT name FROM dds_repo_meta LIMIT 1').get() as { name: string } | undefined
  if (meta === undefined) throw new Error('dds repository database without a name (dds_repo_meta is empty)')
  // schema version 1 has no `kind`: dds reads those dependencies as `lib`
  const hasKind = tables.has('dds_repo_package_deps') && (db.prepare('PRAGMA table_info(dds_repo_package_deps)').all() as Array<{ name: string }>).some((c) => c.name === 'kind')
  const deps = new Map<number, DdsDependency[]>()
  if (tables.has('dds_repo_package_deps')) {
    const rows = db.prepare(`SELECT package_id, dep_name, low, high, ${hasKind ? 'kind' : "'lib' AS kind"} FROM dds_repo_package_deps ORDER BY dep_id`).all() as Array<{ package_id: number, dep_name: string, low: string, high: string, kind: string }>
    for (const r of rows) {
      const list = deps.get(r.package_id) ?? []
      list.push({ name: r.dep_name, range: rangeOf(r.low, r.high), low: r.low, high: r.high, kind: r.kind })
      deps.set(r.package_id, list)
    }
  }
  const digests = new Map<number, { sha256: string, size: number }>()
  if (tables.has('dpm_package_digests')) {
    for (const r of db.prepare('SELECT package_id, sha256, size FROM dpm_package_digests').all() as Array<{ package_id: number, sha256: string, size: number }>) {
      digests.set(r.package_id, { sha256: r.sha256, size: Number(r.size) })
    }
  }
  const rows = db.prepare('SELECT package_id, name, version, description, url FROM dds_repo_packages ORDER BY name, package_id').all() as Array<{ package_id: number, name: string, version: string, description: string, url: string }>
  return {
    name: meta.name,
    packages: rows.map((r) => ({ name: r.name, version: r.version, description: r.description, url: r.url, dependencies: deps.get(r.package_id) ?? [], ...digests.get(r.package_id) }))
  }
}

/** A listing to write: dependencies with their bounds (`low` ≤ version < `high`). */
export interface NewDdsPackage {
  name: string
  version: string
  description: string
  url: string
  dependencies: Array<{ name: string, low: string, high: string, kind: string }>
  sha256?: string
  size?: number
}

export class DuplicatePackageError extends Error {
  static override name = 'DuplicatePackageError'
  override name = 'DuplicatePackageError'
}

/** A repository database open for changes (repoman's). */
export interface DdsRepoDb {
  name(): string
  has(name: string, version: string): boolean
  add(pkg: NewDdsPackage): void
  /** False when there was no such package. */
  remove(name: string, version: string): boolean
  /** Compacts and closes; again is a no-op. */
  close(): void
}

/** Creates `repo.db` with the dds schema and the repository's name; fails if the file holds a database already. */
export function createDdsRepoDb (dbFile: string, name: string): DdsRepoDb {
  const db = new DatabaseSync(dbFile)
  try {
    const existing = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }
    if (Number(existing.n) > 0) throw new Error(`${dbFile} already holds a database`)
    db.exec('BEGIN')
    db.exec(SCHEMA)
    db.prepare('INSERT INTO dds_repo_meta (meta_version, version, name) VALUES (1, ?, ?)').run(SCHEMA_VERSION, name)
    db.exec('COMMIT')
  } catch (err) {
    db.close()
    throw err
  }
  return handle(db)
}

/** Opens an existing `repo.db` for changes. Throws if it is missing or not a dds repository. */
export function openDdsRepoDb (dbFile: string): DdsRepoDb {
  const db = new DatabaseSync(dbFile, { open: true })
  try {
    const meta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dds_repo_meta'").get()
    if (meta === undefined) throw new Error(`${dbFile} is not a dds repository database`)
    const version = db.prepare('SELECT version FROM dds_repo_meta').get() as { version: number } | undefined
    if (version === undefined || Number(version.version) < SCHEMA_VERSION) throw new Error(`${dbFile}: schema version ${version?.version ?? 'unknown'} is older than ${SCHEMA_VERSION}; open it once with dds repoman to migrate it`)
    db.exec(SCHEMA) // adds DPM's digest table to a repository dds made
  } catch (err) {
    db.close()
    throw err
  }
  return handle(db)
}

function handle (db: DatabaseSync): DdsRepoDb {
  db.exec('PRAGMA foreign_keys = 1')
  return {
    name: () => (db.prepare('SELECT name FROM dds_repo_meta').get() as { name: string }).name,
    has: (name, version) => db.prepare('SELECT 1 FROM dds_repo_packages WHERE name = ? AND version = ?').get(name, version) !== undefined,
    add (pkg) {
      db.exec('BEGIN')
      try {
        if (db.prepare('SELECT 1 FROM dds_repo_packages WHERE name = ? AND version = ?').get(pkg.name, pkg.version) !== undefined) {
          throw new DuplicatePackageError(`${pkg.name}@${pkg.version} is already in the repository`)
        }
        const { lastInsertRowid: id } = db.prepare('INSERT INTO dds_repo_packages (name, version, description, url) VALUES (?, ?, ?, ?)').run(pkg.name, pkg.version, pkg.description, pkg.url)
        const dep = db.prepare('INSERT INTO dds_repo_package_deps (package_id, dep_name, low, high, kind) VALUES (?, ?, ?, ?, ?)')
        for (const d of pkg.dependencies) dep.run(id, d.name, d.low, d.high, d.kind)
        if (pkg.sha256 !== undefined) db.prepare('INSERT INTO dpm_package_digests (package_id, sha256, size) VALUES (?, ?, ?)').run(id, pkg.sha256, pkg.size ?? 0)
        db.exec('COMMIT')
      } catch (err) {
        db.exec('ROLLBACK')
        throw err
      }
    },
    remove (name, version) {
      const { changes } = db.prepare('DELETE FROM dds_repo_packages WHERE name = ? AND version = ?').run(name, version)
      return Number(changes) > 0
    },
    close () {
      if (!db.isOpen) return
      // dds compacts before it compresses: a smaller repo.db.gz for every client
      db.exec('VACUUM')
      db.close()
    }
  }
}

/**
 * Writes `repo.db.gz` from `repo.db`: streamed to a temporary file beside it,
 * then renamed, so a static server never serves a half-written file.
 */
export async function writeRepoDbGz (dbFile: string, gzFile: string): Promise<void> {
  const temp = `${gzFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await pipeline(createReadStream(dbFile), createGzip(), createWriteStream(temp, { flush: true }))
    await rename(temp, gzFile)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
