import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { V8_FLAGS, withMallocTunables } from '../../bin/node-settings.js'

const DPM = fileURLToPath(new URL('../../bin/dpm.js', import.meta.url))
const SETTLE_ID = 'dpm-test-settle-'

/** A node's log line for one request it answered (src/gateway/access-log.ts). */
export interface RequestLine { id: string, method: string, path: string, status: number, cache?: string, ms: number }

export interface SpawnedNode {
  url: string
  child: ChildProcess
  /** Parsed log lines, oldest first (grows while the node runs; see `settled`). */
  logs: Array<Record<string, unknown>>
  /**
   * The log lines once every request answered before this call is in them.
   * The node writes its log behind the serving thread's back, so a client can
   * finish before its last requests' lines arrive: this sends one more request
   * and waits for its line, which is written after theirs. That line itself is
   * left out of `logs`.
   */
  settled(): Promise<Array<Record<string, unknown>>>
  /** The request lines among the `settled` log from line `since` on, those whose path matches `path` if given. */
  requests(since?: number, path?: RegExp): Promise<RequestLine[]>
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>
  /** What the process wrote to stderr (crashes end up here). */
  stderr(): string
  /** Peak resident memory so far, in bytes (Linux VmHWM). */
  peakRss(): Promise<number>
  stop(): Promise<number | string>
}

/**
 * `dpm start` as its own OS process, through `bin/dpm.js` as a user runs it
 * (its V8 flags and malloc tunables given, so it runs in this one process), on a free loopback port. `nodeOptions` go to Node itself, e.g. a heap limit;
 * `defaultMalloc` leaves out the tunables, for a bench to compare.
 */
export async function spawnNode (init: { dataDir: string, env?: Record<string, string>, nodeOptions?: string[], netns?: string, defaultMalloc?: boolean }): Promise<SpawnedNode> {
  const command = [process.execPath, ...V8_FLAGS, ...(init.nodeOptions ?? []), DPM, 'start']
  // `ip netns exec` enters the namespace and execs the node: the child's pid is the node's
  if (init.netns !== undefined) command.unshift('ip', 'netns', 'exec', init.netns)
  const env = { ...process.env, DPM_DATA_DIR: init.dataDir, DPM_HTTP_PORT: '0', DPM_LOG_LEVEL: 'info', DPM_MDNS: 'false', DPM_P2P_LISTEN: '/ip4/127.0.0.1/tcp/0', ...init.env }
  const child = spawn(command[0]!, command.slice(1), {
    env: init.defaultMalloc === true ? env : withMallocTunables(env),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const logs: Array<Record<string, unknown>> = []
  const settling = new Map<string, () => void>()
  let settles = 0
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)

  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>
      try { entry = JSON.parse(line) } catch { return }
      const settle = typeof entry.id === 'string' && entry.id.startsWith(SETTLE_ID) ? settling.get(entry.id) : undefined
      if (settle !== undefined) { settle(); return }
      logs.push(entry)
      if (entry.msg === 'gateway listening') resolve(entry.url as string)
    })
    void exited.then((code) => { reject(new Error(`node exited (${code}) before listening: ${stderr}`)) })
  })

  async function settled (): Promise<Array<Record<string, unknown>>> {
    const id = `${SETTLE_ID}${++settles}`
    const arrived = new Promise<void>((resolve) => settling.set(id, resolve))
    await (await fetch(`${url}/-/health`, { headers: { 'x-request-id': id } })).arrayBuffer()
    const late = sleep(10_000, undefined, { ref: false }).then(() => { throw new Error(`the node's log did not catch up within 10 s: ${stderr}`) })
    try {
      await Promise.race([arrived, late])
    } finally {
      settling.delete(id)
    }
    return logs
  }

  return {
    url,
    child,
    logs,
    exited,
    stderr: () => stderr,
    settled,
    async requests (since = 0, path) {
      const lines = (await settled()).slice(since).filter((l) => l.msg === 'request') as unknown as RequestLine[]
      return path === undefined ? lines : lines.filter((l) => path.test(l.path))
    },
    async peakRss () {
      const { readFile } = await import('node:fs/promises')
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024
    },
    async stop () {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return await exited
    }
  }
}
