import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm, rmdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { isRepositoryName } from '../catalog/dds-package-id.ts'
import { createDdsRepoDb, DuplicatePackageError, openDdsRepoDb, readDdsRepository, writeRepoDbGz, type DdsPackage, type DdsRepoDb } from '../catalog/dds-repo-db.ts'
import { manifestOfArchive } from './archive-manifest.ts'
import { RepomanError } from './errors.ts'
import { fetchManifest } from './fetch-manifest.ts'
import { parseListingUrl } from './listing-url.ts'
import { isPackageName, isPackageVersion, type PackageManifest } from './manifest.ts'

/** What dds's repoman writes when a package declares none. */
const NO_DESCRIPTION = '[No description]'

const dbOf = (dir: string): string => join(dir, 'repo.db')
const sdistOf = (dir: string, name: string, version: string): string => join(dir, 'pkg', name, version, 'sdist.tar.gz')

/** `repoman init DIR --name N`: a new, empty repository. */
export async function initRepository (dir: string, name: string): Promise<void> {
  if (!isRepositoryName(name)) throw new RepomanError(`invalid repository name "${name}" (lower-case letters, digits, "-" and "_", up to 64)`)
  if (await exists(dbOf(dir))) throw new RepomanError(`${dir} is a repository already (${dbOf(dir)} exists)`)
  await mkdir(join(dir, 'pkg'), { recursive: true })
  let db: DdsRepoDb
  try {
    db = createDdsRepoDb(dbOf(dir), name)
  } catch (err) {
    throw new RepomanError(`cannot create ${dbOf(dir)}: ${(err as Error).message}`)
  }
  await commit(dir, db)
}

/** `repoman ls DIR`: the repository's name and its packages. */
export async function listRepository (dir: string): Promise<{ name: string, packages: DdsPackage[] }> {
  await mustBeRepository(dir)
  try {
    return readDdsRepository(dbOf(dir))
  } catch (err) {
    throw new RepomanError(`${dbOf(dir)}: ${(err as Error).message}`)
  }
}

/**
 * `repoman import DIR ARCHIVE`: an sdist goes into `pkg/<name>/<version>/sdist.tar.gz`,
 * listed as `dds:<name>@<version>` (which a dds client resolves against the
 * repository's URL) with its sha256 in DPM's digest table.
 */
export async function importArchive (dir: string, archive: string): Promise<PackageManifest> {
  const db = await open(dir)
  let temp: string | undefined
  try {
    let manifest: PackageManifest
    try {
      manifest = await manifestOfArchive(createReadStream(archive), archive)
    } catch (err) {
      if (err instanceof RepomanError) throw err
      throw new RepomanError(`${archive}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
    }
    duplicate(db, manifest)
    const dest = sdistOf(dir, manifest.name, manifest.version)
    await mkdir(join(dest, '..'), { recursive: true })
    temp = `${dest}.${randomBytes(4).toString('hex')}.tmp`
    const hash = createHash('sha256')
    let size = 0
    await pipeline(createReadStream(archive), new Transform({ transform (chunk: Buffer, _e, done) { hash.update(chunk); size += chunk.byteLength; done(null, chunk) } }), createWriteStream(temp, { flush: true }))
    await rename(temp, dest)
    temp = dest // removed again if it cannot be listed
    add(db, manifest, `dds:${manifest.name}@${manifest.version}`, undefined, { sha256: hash.digest('hex'), size })
    temp = undefined
    await commit(dir, db)
    return manifest
  } finally {
    if (temp !== undefined) await rm(temp, { force: true })
    closeQuietly(db)
  }
}

/** `repoman add DIR URL`: a listing by URL, its manifest read from the package fetched once. */
export async function addListing (dir: string, url: string, description?: string): Promise<PackageManifest> {
  const source = parseListingUrl(url)
  const db = await open(dir)
  try {
    const manifest = await fetchManifest(source, url)
    duplicate(db, manifest)
    add(db, manifest, url, description)
    await commit(dir, db)
    return manifest
  } finally {
    closeQuietly(db)
  }
}

/** `repoman remove DIR NAME@VERSION`: the listing and, for an imported package, its sdist. */
export async function removePackage (dir: string, id: string): Promise<void> {
  const at = id.lastIndexOf('@')
  const [name, version] = at <= 0 ? [id, ''] : [id.slice(0, at), id.slice(at + 1)]
  if (!isPackageName(name) || !isPackageVersion(version)) throw new RepomanError(`"${id}" is not NAME@VERSION (e.g. acme-widgets@1.2.3)`)
  const db = await open(dir)
  try {
    if (!db.remove(name, version)) throw new RepomanError(`${name}@${version} is not in the repository`)
    await rm(join(dir, 'pkg', name, version), { recursive: true, force: true })
    await rmdir(join(dir, 'pkg', name)).catch(() => {}) // kept while other versions are in it
    await commit(dir, db)
  } finally {
    closeQuietly(db)
  }
}

function add (db: DdsRepoDb, m: PackageManifest, url: string, description: string | undefined, digest?: { sha256: string, size: number }): void {
  try {
    db.add({ name: m.name, version: m.version, description: description ?? m.description ?? NO_DESCRIPTION, url, dependencies: m.dependencies, ...digest })
  } catch (err) {
    if (err instanceof DuplicatePackageError) throw new RepomanError(err.message)
    throw new RepomanError(`cannot record ${m.name}@${m.version}: ${(err as Error).message}`)
  }
}

function duplicate (db: DdsRepoDb, m: PackageManifest): void {
  if (db.has(m.name, m.version)) throw new RepomanError(`${m.name}@${m.version} is already in the repository`)
}

async function open (dir: string): Promise<DdsRepoDb> {
  await mustBeRepository(dir)
  try {
    return openDdsRepoDb(dbOf(dir))
  } catch (err) {
    throw new RepomanError(`${dbOf(dir)}: ${(err as Error).message}`)
  }
}

/** Every change ends here: the database compacted and closed, `repo.db.gz` rewritten from it. */
async function commit (dir: string, db: DdsRepoDb): Promise<void> {
  db.close()
  await writeRepoDbGz(dbOf(dir), `${dbOf(dir)}.gz`)
}

function closeQuietly (db: DdsRepoDb): void {
  try { db.close() } catch { /* closed by commit */ }
}

async function mustBeRepository (dir: string): Promise<void> {
  if (!await exists(dbOf(dir))) throw new RepomanError(`${dir} is not a repository (no ${basename(dbOf(dir))}; create one with dpm repoman init ${dir} --name NAME)`)
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

