import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, createServer } from 'node:net'

export interface AptCacherNg {
  /** `http://127.0.0.1:PORT/`: a mirror is reached as `<url><host>/<path>`. */
  url: string
  /** Its process, for a bench to wait until it is idle. */
  pid: number
  stop(): Promise<void>
}

/** Debian's apt-cacher-ng on loopback with its own empty configuration and a cache in `dir`. */
export async function startAptCacherNg (dir: string): Promise<AptCacherNg> {
  for (const sub of ['conf', 'cache', 'log']) await mkdir(join(dir, sub), { recursive: true })
  await writeFile(join(dir, 'conf', 'acng.conf'), '# defaults only\n')
  const port = await freeLowPort()
  const child = spawn('apt-cacher-ng', ['-c', join(dir, 'conf'), 'ForeGround=1', `Port=${port}`, 'BindAddress=127.0.0.1', `CacheDir=${join(dir, 'cache')}`, `LogDir=${join(dir, 'log')}`], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}/`
  // listening is enough: its report page's answer is not one fetch accepts
  for (let i = 0; !(await accepts(port)); i++) {
    if (i > 100 || child.exitCode !== null) throw new Error('apt-cacher-ng did not start')
    await sleep(100)
  }
  return {
    url,
    pid: child.pid!,
    async stop () {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    }
  }
}

async function accepts (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) }).on('error', () => { resolve(false) })
  })
}

/** apt-cacher-ng 3.7 cannot bind a five-digit port ("Error resolving address for binding"): a free one from its own 3142 up. */
async function freeLowPort (): Promise<number> {
  for (let port = 3142; port < 10_000; port++) {
    const server = createServer()
    const free = await new Promise<boolean>((resolve) => server.once('error', () => { resolve(false) }).listen(port, '127.0.0.1', () => { resolve(true) }))
    if (free) {
      await new Promise((resolve) => server.close(resolve))
      return port
    }
  }
  throw new Error('no free port below 10000 for apt-cacher-ng')
}
