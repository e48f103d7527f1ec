import validate from 'validate-npm-package-name'
import { gatewayPath } from './gateway-path.ts'
import { InputError } from './input-error.ts'
import type { Skip } from './session.ts'

/** A registry tarball a lockfile pins, as the node's gateway serves it. */
export interface NpmTarball { name: string, version: string, path: string }

interface LockEntry {
  version?: unknown
  resolved?: unknown
  name?: unknown
  link?: unknown
  inBundle?: unknown
  bundled?: unknown
  dependencies?: unknown
}

/** A version a registry serves (semver with prerelease and build), not `file:…`, a git URL or a tag. */
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/
/** How a registry's tarball URL ends: `<name>/-/<file>.tgz` (npm's and every mirror's layout). */
const REGISTRY_TARBALL = /\/((?:@[^/]+\/)?[^/@][^/]*)\/-\/([^/]+\.tgz)$/

/**
 * The registry tarballs a `package-lock.json` or `npm-shrinkwrap.json` pins:
 * lockfile v2/v3 `packages` (keyed by install path), v1 `dependencies` (nested).
 * Links, workspace folders, bundled dependencies and `file:`/git/remote-URL
 * dependencies are not in a registry and are skipped, each named.
 */
export function parseNpmLock (text: string, file: string): { tarballs: NpmTarball[], skipped: Skip[] } {
  let lock: { lockfileVersion?: unknown, packages?: unknown, dependencies?: unknown }
  try {
    lock = JSON.parse(text)
  } catch (err) {
    throw new InputError(file, `not JSON (${(err as Error).message})`)
  }
  if (typeof lock !== 'object' || lock === null || Array.isArray(lock)) throw new InputError(file, 'not a package-lock.json: expected a JSON object')
  const version = lock.lockfileVersion
  if (version !== 1 && version !== 2 && version !== 3) throw new InputError(file, `lockfileVersion ${JSON.stringify(version)} is not one npm writes (1, 2 or 3)`)

  const tarballs = new Map<string, NpmTarball>()
  const skipped: Skip[] = []
  const take = (where: string, name: string, entry: LockEntry): void => {
    const result = tarballOf(name, entry)
    if (typeof result === 'string') skipped.push({ file, what: where, reason: result })
    else tarballs.set(result.path, result)
  }

  if (version !== 1 || isObject(lock.packages)) {
    if (!isObject(lock.packages)) throw new InputError(file, `lockfileVersion ${version} without a "packages" object`)
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (key === '') continue // the project itself
      if (!isObject(entry)) throw new InputError(file, `packages["${key}"] is not an object`)
      const at = key.lastIndexOf('node_modules/')
      if (at === -1) { skipped.push({ file, what: key, reason: 'a workspace folder' }); continue }
      if (entry.link === true) { skipped.push({ file, what: key, reason: 'a link to a folder' }); continue }
      if (entry.inBundle === true) continue // inside its parent's tarball
      take(key, typeof entry.name === 'string' ? entry.name : key.slice(at + 'node_modules/'.length), entry)
    }
  } else {
    const walk = (deps: unknown, parent: string): void => {
      if (deps === undefined) return
      if (!isObject(deps)) throw new InputError(file, `"dependencies" of ${parent || 'the project'} is not an object`)
      for (const [name, entry] of Object.entries(deps)) {
        const where = parent === '' ? name : `${parent} > ${name}`
        if (!isObject(entry)) throw new InputError(file, `dependencies["${where}"] is not an object`)
        if (entry.bundled !== true) take(where, name, entry)
        walk(entry.dependencies, where)
      }
    }
    walk(lock.dependencies, '')
  }
  return { tarballs: [...tarballs.values()], skipped }
}

/** The gateway path of an entry's tarball, or why it has none. */
function tarballOf (name: string, entry: LockEntry): NpmTarball | string {
  let version = typeof entry.version === 'string' ? entry.version : undefined
  const resolved = typeof entry.resolved === 'string' ? entry.resolved : undefined
  // a v1 alias: `"version": "npm:real-name@1.2.3"`
  const alias = /^npm:((?:@[^/@]+\/)?[^/@]+)@(.+)$/.exec(version ?? '')
  if (alias !== null) [name, version] = [alias[1]!, alias[2]!]
  if (resolved?.startsWith('file:') === true || version?.startsWith('file:') === true) return `a local dependency (${resolved ?? version})`
  if (resolved !== undefined && /^(git\+|git:|github:|gitlab:|bitbucket:)/.test(resolved)) return `a git dependency (${resolved})`
  if (version === undefined) return 'no version'
  if (!SEMVER.test(version)) return `not a registry version (${version})`

  let filename = `${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`
  if (resolved !== undefined) {
    let pathname: string
    try {
      pathname = decodeURIComponent(new URL(resolved).pathname)
    } catch {
      return `an unreadable resolved URL (${resolved})`
    }
    const match = REGISTRY_TARBALL.exec(pathname)
    if (match === null) return `not from a registry (${resolved})`
    // the URL names what the registry serves, also for an alias
    name = match[1]!
    filename = match[2]!
  }
  // what no registry serves, and what would step out of /npm/ as a path
  if (!validate(name).validForOldPackages) return `not a valid package name (${name})`
  return { name, version, path: gatewayPath('/npm', [...name.split('/'), '-', filename]) }
}

const isObject = (value: unknown): value is Record<string, LockEntry> & LockEntry =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
