import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { cleanEnv } from '../../test/helpers/npm-client.ts'

/** A build-tool-sized tree: test runner, bundler, linter, compiler, a web framework. */
export const DEPENDENCIES = { jest: '^29', webpack: '^5', eslint: '^9', typescript: '^5', express: '^4' }

export interface InstallProject {
  /** The project's directory, with `package.json` and `package-lock.json`. */
  dir: string
  /** An empty npm user config, so this host's own settings stay out of the runs. */
  userconfig: string
  /** Every package the lockfile installs. */
  packages: Array<{ name: string, version: string }>
}

/**
 * The project the install benches share (or one with other `dependencies`, in
 * `work`'s folder `name`), locked against `registry` with no registry address
 * in the lockfile: `npm ci` then fetches through whichever registry it is given.
 */
export async function createInstallProject (work: string, registry: string, dependencies: Record<string, string> = DEPENDENCIES, name = 'project'): Promise<InstallProject> {
  const dir = join(work, name)
  const userconfig = join(work, 'empty-npmrc')
  await writeFile(userconfig, '')
  await mkdir(dir)
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `bench-${name}`, version: '1.0.0', private: true, dependencies }))
  await promisify(execFile)('npm', ['install', '--package-lock-only', '--omit-lockfile-registry-resolved', '--registry', registry, '--userconfig', userconfig, '--cache', join(work, `cache-lock-${name}`), '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, env: cleanEnv(), maxBuffer: 16 << 20 })
  const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { name?: string, version: string }> }
  const packages = Object.entries(lock.packages).filter(([path]) => path !== '').map(([path, entry]) => ({
    // an aliased package names itself; others are named by their folder
    name: entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length),
    version: entry.version
  }))
  return { dir, userconfig, packages }
}
