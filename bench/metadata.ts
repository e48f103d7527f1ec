// Cache-hit packuments under load: requests/s and p99 at 50 connections (wrk),
// for react and typescript, each abbreviated and full, from a node, from nginx
// serving the node's own answer as a static file (the limit), and from
// Verdaccio 6 as a pull-through proxy of the same upstream (installed from the
// registry at run time, run with the project's Node). The systems take turns,
// each going first in turn, round after round, each measured once the one
// before has finished what it still owed; medians and ratios are printed.
// Run alone: `npm run bench:metadata` (BENCH_SECONDS per measurement, default 10;
// BENCH_ROUNDS, default 3). Needs wrk, nginx and the npm registry this host uses.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { spawnNode } from '../test/helpers/spawn-node.ts'
import { startVerdaccio } from './helpers/verdaccio.ts'
import { median } from './helpers/median.ts'
import { startNginx } from './helpers/nginx.ts'
import { quiet } from './helpers/cpu-time.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const ABBREVIATED = 'application/vnd.npm.install-v1+json'
const CASES = [
  { name: 'react', accept: ABBREVIATED, label: 'react, abbreviated' },
  { name: 'react', accept: 'application/json', label: 'react, full' },
  { name: 'typescript', accept: ABBREVIATED, label: 'typescript, abbreviated' },
  { name: 'typescript', accept: 'application/json', label: 'typescript, full' }
]
const run = promisify(execFile)

/** wrk at 50 connections: requests/s, p99 in ms, and how many answers were not 2xx. */
async function load (url: string, accept: string): Promise<{ rps: number, p99: number, errors: number }> {
  const { stdout } = await run('wrk', ['-t2', '-c50', `-d${SECONDS}s`, '--latency', '--timeout', '30s', '-H', `Accept: ${accept}`, url], { maxBuffer: 1 << 20 })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0)
  const [, value, unit] = /\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout) ?? []
  const p99 = value === undefined ? NaN : Number(value) * ({ us: 0.001, ms: 1, s: 1000 }[unit as 'us' | 'ms' | 's'])
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0) + Number(/Socket errors:.*?timeout (\d+)/.exec(stdout)?.[1] ?? 0)
  return { rps, p99, errors }
}

const registry = (await run('npm', ['config', 'get', 'registry'])).stdout.trim().replace(/\/?$/, '/')
const work = await mkdtemp(join(tmpdir(), 'dpm-bench-metadata-'))
/** Each system's stop, all awaited before the work folder goes. */
const stops: Array<() => void | Promise<void>> = []

try {
  // the node, warmed: every case fetched once (MISS), and its answer kept for nginx
  const dpm = await spawnNode({ dataDir: join(work, 'dpm'), env: { DPM_NPM_UPSTREAM: registry } })
  stops.push(async () => { await dpm.stop() })
  for (const c of CASES) {
    const response = await fetch(`${dpm.url}/npm/${c.name}`, { headers: { accept: c.accept } })
    if (!response.ok) throw new Error(`dpm: ${c.label}: ${response.status}`)
    await writeFile(join(work, `${c.name}.${c.accept === ABBREVIATED ? 'abbreviated' : 'full'}.json`), Buffer.from(await response.arrayBuffer()))
  }

  const nginx = await startNginx(work, 'application/json')
  stops.push(nginx.stop)

  // Verdaccio 6, proxying the same upstream, on the project's Node
  process.stdout.write('installing Verdaccio 6 … ')
  const verdaccioServer = await startVerdaccio(join(work, 'verdaccio'), registry)
  stops.push(verdaccioServer.stop)
  const verdaccio = verdaccioServer.url
  for (const c of CASES) await (await fetch(`${verdaccio}/${c.name}`, { headers: { accept: c.accept } })).arrayBuffer()
  console.log('ready')

  console.log(`\nwrk, 50 connections, ${SECONDS} s per measurement, median of ${ROUNDS} rounds (systems take turns)`)
  console.log('| packument | dpm req/s (p99) | nginx req/s (p99) | Verdaccio req/s (p99) | dpm / nginx | dpm / Verdaccio |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const c of CASES) {
    const file = `${c.name}.${c.accept === ABBREVIATED ? 'abbreviated' : 'full'}.json`
    const systems = { dpm: `${dpm.url}/npm/${c.name}`, nginx: `${nginx.url}/${file}`, verdaccio: `${verdaccio}/${c.name}` }
    const pids: Record<string, number> = { dpm: dpm.child.pid!, nginx: nginx.worker, verdaccio: verdaccioServer.pid }
    const results: Record<string, Array<{ rps: number, p99: number, errors: number }>> = { dpm: [], nginx: [], verdaccio: [] }
    const order = Object.entries(systems)
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < order.length; i++) {
        const [system, url] = order[(i + round) % order.length]!
        results[system]!.push(await load(url, c.accept))
        // what it still owes clients wrk has left is done before the next system is measured
        if (!await quiet(pids[system]!)) console.log(`(${system} was still busy 120 s after its ${c.label} run)`)
      }
    }
    const m = Object.fromEntries(Object.entries(results).map(([s, rs]) => [s, { rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((n, r) => n + r.errors, 0) }]))
    const cell = (s: string): string => m[s]!.rps === 0
      ? `none answered within ${SECONDS} s`
      : `${m[s]!.rps.toFixed(1)} (${m[s]!.p99.toFixed(0)} ms)${m[s]!.errors > 0 ? `, ${m[s]!.errors} errors` : ''}`
    const ratio = (a: number, b: number, digits: number, unit = ''): string => b === 0 ? '—' : `${(a / b).toFixed(digits)}${unit}`
    const size = (await run('stat', ['-c', '%s', join(work, file)])).stdout.trim()
    console.log(`| ${c.label}, ${(Number(size) / 1e6).toFixed(2)} MB | ${cell('dpm')} | ${cell('nginx')} | ${cell('verdaccio')} | ${ratio(m.dpm!.rps, m.nginx!.rps, 2)} | ${ratio(m.dpm!.rps, m.verdaccio!.rps, 0, '×')} |`)
  }
  console.log(`\ndpm peak RSS: ${Math.round(await dpm.peakRss() / 1048576)} MiB`)
} finally {
  for (const stop of stops) await stop()
  await rm(work, { recursive: true, force: true })
}
