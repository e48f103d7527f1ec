import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The `Accept` npm sends for a packument: the abbreviated form first, the full one accepted. */
export const NPM_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

export interface NpmProject {
  dir: string
  /** `npm install` through `registry` with an empty user config and a cache of its own. */
  install(registry: string, options?: { signal?: AbortSignal }): Promise<void>
  /** name@version → integrity of every installed package, from npm's hidden lockfile. */
  tree(): Promise<Record<string, string>>
  /** Empties node_modules, the lockfile and the npm cache: the next install asks the registry for everything. */
  reset(): Promise<void>
  remove(): Promise<void>
}

/** A throwaway project for the real npm client, isolated from the user's ~/.npmrc. */
export async function createNpmProject (dependencies: Record<string, string>): Promise<NpmProject> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-npm-'))
  const userconfig = join(dir, 'empty-npmrc')
  await writeFile(userconfig, '')
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'dpm-e2e', version: '1.0.0', private: true, dependencies }))
  return {
    dir,
    async install (registry, options = {}) {
      const child = spawn('npm', [
        'install', '--registry', registry, '--userconfig', userconfig, '--cache', join(dir, 'npm-cache'),
        '--no-audit', '--no-fund', '--no-update-notifier', '--ignore-scripts', '--loglevel', 'error'
      ], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
      const kill = (): void => { child.kill('SIGKILL') }
      options.signal?.addEventListener('abort', kill, { once: true })
      // wait for the exit itself, so nothing is still writing when the caller resets the project
      const [code, signal] = await once(child, 'exit') as [number | null, string | null]
      options.signal?.removeEventListener('abort', kill)
      if (code !== 0) throw new Error(`npm install exited with ${code ?? signal}: ${stderr.slice(-2000)}`)
    },
    async tree () {
      const lock = JSON.parse(await readFile(join(dir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, { version: string, integrity: string }> }
      return Object.fromEntries(Object.entries(lock.packages).map(([path, p]) => [`${path}@${p.version}`, p.integrity]))
    },
    async reset () {
      for (const path of ['node_modules', 'package-lock.json', 'npm-cache']) await rm(join(dir, path), { recursive: true, force: true })
    },
    remove: () => rm(dir, { recursive: true, force: true })
  }
}

/** npm run-script exports `npm_config_*` variables that would override the flags above. */
export function cleanEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_config_')))
}
