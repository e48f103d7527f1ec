import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../../test/helpers/free-port.ts'

export interface StaticNginx {
  /** `http://127.0.0.1:PORT`, serving `root`'s files. */
  url: string
  /** The one worker that serves: whose CPU a bench counts. */
  worker: number
  /** Stops nginx and waits for it: it removes its pid file (in `root`) as it exits. */
  stop(): Promise<void>
}

/** nginx serving `root` with sendfile and one worker on loopback, the limit the benches compare with. */
export async function startNginx (root: string, defaultType?: string): Promise<StaticNginx> {
  const port = await freePort()
  await writeFile(join(root, 'nginx.conf'), `
daemon off; user root; worker_processes 1; error_log stderr; pid ${root}/nginx.pid;
events {}
http { access_log off; sendfile on; ${defaultType === undefined ? '' : `default_type ${defaultType}; `}server { listen 127.0.0.1:${port}; root ${root}; } }`)
  const master = spawn('nginx', ['-p', root, '-c', join(root, 'nginx.conf')], { stdio: 'inherit' })
  const exited = once(master, 'exit')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const worker = Number((await promisify(execFile)('pgrep', ['-P', String(master.pid)])).stdout.trim())
  return {
    url: `http://127.0.0.1:${port}`,
    worker,
    async stop () {
      master.kill()
      await exited
    }
  }
}
