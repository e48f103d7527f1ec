import { DatabaseSync } from 'node:sqlite'
import type { AptOptions, ListedPackage, PulledSource, Repository, RepositoryFormat, SourceValidators } from './repository.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS repositories (
  name        TEXT PRIMARY KEY,
  url         TEXT NOT NULL,
  format      TEXT NOT NULL,
  apt         TEXT,
  added_at    INTEGER NOT NULL,
  checked_at  INTEGER,
  imported_at INTEGER
);
CREATE TABLE IF NOT EXISTS sources (
  repository    TEXT NOT NULL REFERENCES repositories(name) ON DELETE CASCADE ON UPDATE CASCADE,
  url           TEXT NOT NULL,
  etag          TEXT,
  last_modified TEXT,
  PRIMARY KEY (repository, url)
);
CREATE TABLE IF NOT EXISTS packages (
  repository   TEXT NOT NULL,
  source       TEXT NOT NULL,
  name         TEXT NOT NULL,
  version      TEXT,
  description  TEXT,
  dependencies TEXT,
  FOREIGN KEY (repository, source) REFERENCES sources(repository, url) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX IF NOT EXISTS packages_by_source ON packages(repository, source);
-- removed dds repositories: /dds/<name>/ keeps serving what the node cached from them
CREATE TABLE IF NOT EXISTS retired (
  name       TEXT PRIMARY KEY,
  url        TEXT NOT NULL,
  removed_at INTEGER NOT NULL
);
`

/** One row of the catalog's packages, with the repository it came from. */
export interface PackageRow { repository: string, format: RepositoryFormat, name: string, version: string | null, description: string | null }

export interface CatalogDb {
  repositories(): Repository[]
  repository(name: string): Repository | undefined
  /** Rows per repository. */
  packageCounts(): Map<string, number>
  validators(name: string): SourceValidators[]
  /** Registers a repository, with its first listing when one was pulled: both or neither. */
  insert(repository: Repository, pulled?: PulledSource[]): void
  /** Deletes a repository and its listing (a dds one is kept as retired); the number of package rows that left. */
  remove(name: string, at: number): number
  /** Removed dds repositories, by name and URL. */
  retired(): Array<{ name: string, url: string }>
  /**
   * Replaces a repository's listing in one transaction: sources that were pulled
   * replace their rows, sources that answered 304 keep theirs, sources no longer
   * asked for go. `rename` adopts the name the repository declares.
   */
  replaceListing(name: string, pulled: PulledSource[], at: number, rename?: string): void
  /** Every package row, for matching in JS (the glob is not SQL's). */
  allPackages(): Iterable<PackageRow>
  close(): void
}

/** The catalog's SQLite database (`node:sqlite`, synchronous: each call is short, or one transaction). */
export function openCatalogDb (file: string): CatalogDb {
  const db = new DatabaseSync(file)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;')
  db.exec(SCHEMA)

  const toRepository = (row: Record<string, unknown>): Repository => ({
    name: row.name as string,
    url: row.url as string,
    format: row.format as RepositoryFormat,
    ...(row.apt === null ? {} : { apt: JSON.parse(row.apt as string) as AptOptions }),
    addedAt: row.added_at as number,
    ...(row.checked_at === null ? {} : { checkedAt: row.checked_at as number }),
    ...(row.imported_at === null ? {} : { importedAt: row.imported_at as number })
  })
  const insertPackage = db.prepare('INSERT INTO packages (repository, source, name, version, description, dependencies) VALUES (?, ?, ?, ?, ?, ?)')

  function transaction (work: () => void): void {
    db.exec('BEGIN IMMEDIATE')
    try {
      work()
      db.exec('COMMIT')
    } catch (err) {
      db.exec('ROLLBACK')
      throw err
    }
  }

  return {
    repositories: () => db.prepare('SELECT * FROM repositories ORDER BY name').all().map(toRepository),
    repository (name) {
      const row = db.prepare('SELECT * FROM repositories WHERE name = ?').get(name)
      return row === undefined ? undefined : toRepository(row)
    },
    packageCounts () {
      const rows = db.prepare('SELECT repository, COUNT(*) AS n FROM packages GROUP BY repository').all()
      return new Map(rows.map((r) => [r.repository as string, r.n as number]))
    },
    validators: (name) => db.prepare('SELECT url, etag, last_modified FROM sources WHERE repository = ? ORDER BY rowid').all(name).map((r) => ({
      url: r.url as string,
      ...(r.etag === null ? {} : { etag: r.etag as string }),
      ...(r.last_modified === null ? {} : { lastModified: r.last_modified as string })
    })),
    insert (r, pulled) {
      transaction(() => {
        db.prepare('INSERT INTO repositories (name, url, format, apt, added_at) VALUES (?, ?, ?, ?, ?)').run(r.name, r.url, r.format, r.apt === undefined ? null : JSON.stringify(r.apt), r.addedAt)
        db.prepare('DELETE FROM retired WHERE name = ?').run(r.name)
        if (pulled !== undefined) replace(r.name, pulled, r.addedAt)
      })
    },
    remove (name, at) {
      let removed = 0
      transaction(() => {
        db.prepare("INSERT OR REPLACE INTO retired (name, url, removed_at) SELECT name, url, ? FROM repositories WHERE name = ? AND format = 'dds'").run(at, name)
        removed = Number((db.prepare('SELECT COUNT(*) AS n FROM packages WHERE repository = ?').get(name)?.n) ?? 0)
        db.prepare('DELETE FROM packages WHERE repository = ?').run(name)
        db.prepare('DELETE FROM repositories WHERE name = ?').run(name)
      })
      return removed
    },
    replaceListing (name, pulled, at, rename) {
      transaction(() => {
        replace(name, pulled, at)
        if (rename !== undefined && rename !== name) db.prepare('UPDATE repositories SET name = ? WHERE name = ?').run(rename, name)
      })
    },
    retired: () => db.prepare('SELECT name, url FROM retired ORDER BY name').all() as Array<{ name: string, url: string }>,
    * allPackages () {
      const query = db.prepare('SELECT p.repository, r.format, p.name, p.version, p.description FROM packages p JOIN repositories r ON r.name = p.repository')
      yield * query.iterate() as Iterable<PackageRow>
    },
    close: () => { db.close() }
  }

  /** Inside a transaction: a repository's sources and rows become what `pulled` says. */
  function replace (name: string, pulled: PulledSource[], at: number): void {
    const changed = pulled.some((s) => s.packages !== undefined)
    const kept = new Set(pulled.map((s) => s.url))
    for (const { url } of db.prepare('SELECT url FROM sources WHERE repository = ?').all(name) as Array<{ url: string }>) {
      if (!kept.has(url)) db.prepare('DELETE FROM sources WHERE repository = ? AND url = ?').run(name, url)
    }
    for (const source of pulled) {
      db.prepare(`INSERT INTO sources (repository, url, etag, last_modified) VALUES (?, ?, ?, ?)
        ON CONFLICT (repository, url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified`)
        .run(name, source.url, source.etag ?? null, source.lastModified ?? null)
      if (source.packages === undefined) continue
      db.prepare('DELETE FROM packages WHERE repository = ? AND source = ?').run(name, source.url)
      for (const p of source.packages) insertRow(name, source.url, p)
    }
    db.prepare(`UPDATE repositories SET checked_at = ?${changed ? ', imported_at = ?' : ''} WHERE name = ?`).run(...(changed ? [at, at, name] : [at, name]))
  }

  function insertRow (repository: string, source: string, p: ListedPackage): void {
    insertPackage.run(repository, source, p.name, p.version ?? null, p.description ?? null, p.dependencies === undefined || p.dependencies.length === 0 ? null : JSON.stringify(p.dependencies))
  }
}
