import { execFile, spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { waitFor } from '../../test/helpers/wait-for.ts'
import { freePort } from '../../test/helpers/free-port.ts'

/**
 * Verdaccio 6 as a pull-through proxy of `upstream`, installed from the registry
 * into `dir` and run with the project's Node (it needs Node >= 22) on loopback.
 */
export async function startVerdaccio (dir: string, upstream: string): Promise<{ url: string, pid: number, stop(): void }> {
  await mkdir(join(dir, 'install'), { recursive: true })
  // verdaccio-audit asks for node-fetch by the dist-tag `cjs`, which not every registry mirror carries: name the version
  await writeFile(join(dir, 'install', 'package.json'), JSON.stringify({ private: true, dependencies: { verdaccio: '6' }, overrides: { 'node-fetch': '2.7.0' } }))
  await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund', '--silent'], { cwd: join(dir, 'install'), maxBuffer: 16 << 20 })
  const port = await freePort()
  await writeFile(join(dir, 'config.yaml'), `storage: ${join(dir, 'storage')}
uplinks:
  upstream:
    url: ${upstream}
    timeout: 60s
packages:
  '**':
    access: $all
    proxy: upstream
log: { type: stdout, format: pretty, level: error }
listen: 127.0.0.1:${port}
`)
  const child = spawn(process.execPath, [join(dir, 'install', 'node_modules', 'verdaccio', 'bin', 'verdaccio'), '--config', join(dir, 'config.yaml')], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  await waitFor('Verdaccio to listen', async () => (await fetch(`${url}/-/ping`).catch(() => undefined))?.ok === true, 60_000)
  return { url, pid: child.pid!, stop: () => { child.kill('SIGTERM') } }
}
