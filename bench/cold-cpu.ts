// What a cold install costs the node itself, by kind of request, without npm
// on the same two cores: the install bench's packuments (npm's `Accept`) and
// then its tarballs go through a fresh node, 15 requests at a time as npm makes
// them, then the same again warm. For each phase: the node's CPU in user space
// and in the kernel (from /proc, until it has gone quiet after its last
// answer), its minor page faults, and the CPU per MB of upstream document and
// per tarball, and the median request's time to its last byte, and how late
// the node's event loop ran: the 99th percentile and the worst of its delay as
// the node's own /-/metrics report it over the phase (sampled every 10 ms, so
// an idle loop shows ~10 ms). The packuments are also
// fetched direct, for their time and the bytes the registry sends. A fresh node
// each round; medians, then the ratio of cold to direct seconds.
// Each round also runs the cold phases on a node without each of the settings
// bin/node-settings.js gives a node (the malloc tunable; the 4 MiB young
// generation, against the 8 MiB it had for a while, which saved CPU here and
// slowed Bitswap), the kinds of node taking turns going first, and prints the
// node's CPU with its settings against each.
// CPU seconds vary far less from run to run than an install's wall time does,
// so this is where a change to the cold path shows first.
// Run alone: `npm run bench:cold-cpu` (BENCH_ROUNDS, default 3). Needs the npm
// registry this host uses.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { NPM_ACCEPT } from '../test/helpers/npm-client.ts'
import { spawnNode } from '../test/helpers/spawn-node.ts'
import { processUsage, quiet } from './helpers/cpu-time.ts'
import { createInstallProject } from './helpers/install-project.ts'
import { median } from './helpers/median.ts'
import { fetchAll, NPM_CONCURRENCY, packumentPath, tarballPath } from './helpers/npm-paths.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

const registry = (await promisify(execFile)('npm', ['config', 'get', 'registry'])).stdout.trim().replace(/\/?$/, '/')
const work = await mkdtemp(join(tmpdir(), 'dpm-bench-cold-cpu-'))

/** A node without one of bin/node-settings.js's settings, to show what that setting saves. */
interface Without { name: string, node: { defaultMalloc?: boolean, nodeOptions?: string[] } }
const WITHOUT: Without[] = [
  { name: 'default malloc', node: { defaultMalloc: true } },
  // given after the node's own flags, which V8 reads in order: the last one counts
  { name: '8 MiB young generation', node: { nodeOptions: ['--max-semi-space-size=8'] } }
]

interface Phase { seconds: number, bytes: number, requestMs: number, user: number, kernel: number, faults: number, loopP99Ms: number, loopMaxMs: number }

/** The node's event loop delay since it was last asked: its /-/metrics start a new sample at each scrape. */
async function loopDelay (nodeUrl: string): Promise<{ p99Ms: number, maxMs: number }> {
  const metrics = await (await fetch(`${nodeUrl}/-/metrics`)).text()
  const seconds = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN)
  return { p99Ms: seconds('dpm_nodejs_eventloop_lag_p99_seconds') * 1000, maxMs: seconds('dpm_nodejs_eventloop_lag_max_seconds') * 1000 }
}

/** Fetches every URL as npm would, and what it cost the node (nothing counted without one). */
async function phase (urls: string[], headers: Record<string, string>, node?: { pid: number, url: string }): Promise<Phase> {
  if (node !== undefined) await loopDelay(node.url)
  const before = node === undefined ? undefined : await processUsage(node.pid)
  const started = performance.now()
  const { bytes, requestMs: each } = await fetchAll(urls, headers)
  const seconds = (performance.now() - started) / 1000
  const requestMs = median(each)
  if (node === undefined || before === undefined) return { seconds, bytes, requestMs, user: 0, kernel: 0, faults: 0, loopP99Ms: 0, loopMaxMs: 0 }
  const { p99Ms: loopP99Ms, maxMs: loopMaxMs } = await loopDelay(node.url)
  // what the node does after its last answer (writing the blocks of what it answered) is this phase's
  await quiet(node.pid)
  const after = await processUsage(node.pid)
  return { seconds, bytes, requestMs, user: after.user - before.user, kernel: after.kernel - before.kernel, faults: after.faults - before.faults, loopP99Ms, loopMaxMs }
}

try {
  const { packages } = await createInstallProject(work, registry)
  const names = [...new Set(packages.map((p) => p.name))]

  const runs: Record<string, Phase[]> = { 'packuments, direct': [], 'packuments, cold': [], 'tarballs, cold': [], 'packuments, warm': [], 'tarballs, warm': [] }
  for (const { name } of WITHOUT) Object.assign(runs, { [`packuments, cold, ${name}`]: [], [`tarballs, cold, ${name}`]: [] })
  /** A fresh node's cold phases, then its warm ones; one without one of its settings (`without`), cold only. */
  const measureNode = async (round: number, without?: Without): Promise<void> => {
    const node = await spawnNode({ dataDir: join(work, `dpm-${round}-${without?.name ?? 'settings'}`), env: { DPM_NPM_UPSTREAM: registry }, ...without?.node })
    try {
      const measured = { pid: node.child.pid!, url: node.url }
      const packuments = names.map((n) => `${node.url}/npm/${packumentPath(n)}`)
      const tarballs = packages.map((p) => `${node.url}/npm/${tarballPath(p)}`)
      const suffix = without === undefined ? '' : `, ${without.name}`
      runs[`packuments, cold${suffix}`]!.push(await phase(packuments, { accept: NPM_ACCEPT }, measured))
      runs[`tarballs, cold${suffix}`]!.push(await phase(tarballs, {}, measured))
      if (without !== undefined) return
      runs['packuments, warm']!.push(await phase(packuments, { accept: NPM_ACCEPT }, measured))
      runs['tarballs, warm']!.push(await phase(tarballs, {}, measured))
    } finally {
      await node.stop()
    }
  }
  const kinds = [undefined, ...WITHOUT]
  for (let round = 0; round < ROUNDS; round++) {
    runs['packuments, direct']!.push(await phase(names.map((n) => `${registry}${packumentPath(n)}`), { accept: NPM_ACCEPT }))
    // the kinds of node take turns going first
    for (let i = 0; i < kinds.length; i++) await measureNode(round, kinds[(round + i) % kinds.length])
  }

  const upstreamMB = median(runs['packuments, direct']!.map((p) => p.bytes)) / 1e6
  const cpuOf = (phase: string): number => median(runs[phase]!.map((p) => p.user + p.kernel))
  /** A packument phase's CPU per MB the registry sent, a tarball phase's per tarball. */
  const perUnit = (phase: string): string => {
    const cpu = cpuOf(phase)
    return phase.startsWith('packuments') ? `${(cpu * 1000 / upstreamMB).toFixed(1)} ms per upstream MB` : `${(cpu * 1000 / packages.length).toFixed(2)} ms per tarball`
  }
  console.log(`${names.length} packuments (${upstreamMB.toFixed(1)} MB from the registry) and ${packages.length} tarballs of the install bench's lockfile, ${NPM_CONCURRENCY} at a time, median of ${ROUNDS} rounds (a fresh node each round)`)
  console.log('| phase | seconds | median request, ms | MB served | node CPU user + kernel, s | minor faults | node CPU | event loop delay p99 / max, ms |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const [name, phases] of Object.entries(runs)) {
    const m = (f: (p: Phase) => number): number => median(phases.map(f))
    const node = name.endsWith('direct') ? '| | | | |' : `| ${m((p) => p.user).toFixed(2)} + ${m((p) => p.kernel).toFixed(2)} | ${m((p) => p.faults)} | ${perUnit(name)} | ${m((p) => p.loopP99Ms).toFixed(1)} / ${m((p) => p.loopMaxMs).toFixed(1)} |`
    console.log(`| ${name} | ${m((p) => p.seconds).toFixed(2)} | ${m((p) => p.requestMs).toFixed(1)} | ${(m((p) => p.bytes) / 1e6).toFixed(1)} ${node}`)
  }
  const secondsOf = (phase: string): number => median(runs[phase]!.map((p) => p.seconds))
  console.log(`\npackuments, cold / direct, seconds: ${(secondsOf('packuments, cold') / secondsOf('packuments, direct')).toFixed(2)}`)
  for (const { name } of WITHOUT) console.log(`node CPU with its settings / ${name}: packuments ${(cpuOf('packuments, cold') / cpuOf(`packuments, cold, ${name}`)).toFixed(2)}, tarballs ${(cpuOf('tarballs, cold') / cpuOf(`tarballs, cold, ${name}`)).toFixed(2)}`)
} finally {
  await rm(work, { recursive: true, force: true })
}
