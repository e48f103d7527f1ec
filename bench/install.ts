// A whole install: `npm ci` of a project with several hundred packages and an
// empty npm cache — direct to the registry, through a node cold and warm,
// through Verdaccio 6 warm, and npm's own floor (`npm ci --offline` from a full
// npm cache). Cold twice: on a node just started, and on a node that has been
// running a while (it has served another project's packages, none of this
// one's, so its code is compiled and warm but its cache has nothing to give).
// The systems take turns, round after round, direct and the two colds each
// going first in turn, then the node warm, Verdaccio warm and npm's floor each
// going first in turn, each once the server before has gone quiet; medians and
// ratios are printed, and the CPU the nodes (what they did after npm finished
// included) and npm itself used (means per install).
// Run alone: `npm run bench:install` (BENCH_ROUNDS, default 3). Needs the npm
// registry this host uses.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { cleanEnv, NPM_ACCEPT } from '../test/helpers/npm-client.ts'
import { spawnNode, type SpawnedNode } from '../test/helpers/spawn-node.ts'
import { countingCpu, endedChildrenCpuSeconds, quiet } from './helpers/cpu-time.ts'
import { createInstallProject, DEPENDENCIES } from './helpers/install-project.ts'
import { median } from './helpers/median.ts'
import { fetchAll, packumentPath, tarballPath } from './helpers/npm-paths.ts'
import { startVerdaccio } from './helpers/verdaccio.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

const registry = (await promisify(execFile)('npm', ['config', 'get', 'registry'])).stdout.trim().replace(/\/?$/, '/')
const work = await mkdtemp(join(tmpdir(), 'dpm-bench-install-'))
const { dir: project, userconfig, packages: locked } = await createInstallProject(work, registry)
/** What a running node has served before: another tree, less every package the measured project has. */
const OTHER_DEPENDENCIES = { mocha: '^10', rollup: '^4', prettier: '^3', 'react-dom': '^18', koa: '^2', sass: '^1' }
const measured = new Set(locked.map((p) => p.name))
const served = (await createInstallProject(work, registry, OTHER_DEPENDENCIES, 'other-project')).packages.filter((p) => !measured.has(p.name))
let caches = 0
/** npm's own CPU seconds, by what it installed through. */
const npmCpu = new Map<string, { user: number, kernel: number }>()

/** `npm ci` in the project with an empty node_modules; seconds taken. npm's CPU is added to `npmCpu` under `system`. */
async function npmCi (system: string, through: string, options: { cache?: string, offline?: boolean } = {}): Promise<number> {
  await rm(join(project, 'node_modules'), { recursive: true, force: true })
  const cache = options.cache ?? join(work, `cache-${caches++}`)
  const args = ['ci', '--registry', through, '--userconfig', userconfig, '--cache', cache, '--no-audit', '--no-fund', '--no-update-notifier', '--ignore-scripts', '--loglevel', 'error']
  if (options.offline === true) args.push('--offline')
  const cpuBefore = await endedChildrenCpuSeconds()
  const started = performance.now()
  const child = spawn('npm', args, { cwd: project, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) throw new Error(`npm ci through ${through} exited with ${code}: ${stderr.slice(-1500)}`)
  const seconds = (performance.now() - started) / 1000
  const cpuAfter = await endedChildrenCpuSeconds()
  const total = npmCpu.get(system) ?? { user: 0, kernel: 0 }
  npmCpu.set(system, { user: total.user + cpuAfter.user - cpuBefore.user, kernel: total.kernel + cpuAfter.kernel - cpuBefore.kernel })
  return seconds
}

const nodes: SpawnedNode[] = []
let stopVerdaccio = (): void => {}

try {
  const packages = locked.length

  process.stdout.write('installing and warming Verdaccio 6 … ')
  const verdaccio = await startVerdaccio(join(work, 'verdaccio'), registry)
  stopVerdaccio = verdaccio.stop
  await npmCi('Verdaccio warming', `${verdaccio.url}/`)
  console.log('ready')

  const cpu = { cold: { user: 0, kernel: 0 }, running: { user: 0, kernel: 0 }, warm: { user: 0, kernel: 0 } }
  const times: Record<string, number[]> = { direct: [], 'dpm cold': [], 'dpm cold, running node': [], 'dpm warm': [], 'Verdaccio warm': [], 'npm offline floor': [] }
  /** A fresh node, which has then served the packuments and tarballs of `earlier`. */
  const startNode = async (name: string, earlier: Array<{ name: string, version: string }> = []): Promise<SpawnedNode> => {
    const node = await spawnNode({ dataDir: join(work, name), env: { DPM_NPM_UPSTREAM: registry } })
    nodes.push(node)
    await fetchAll([...new Set(earlier.map((p) => p.name))].map((n) => `${node.url}/npm/${packumentPath(n)}`), { accept: NPM_ACCEPT })
    await fetchAll(earlier.map((p) => `${node.url}/npm/${tarballPath(p)}`))
    await quiet(node.child.pid!)
    return node
  }
  for (let round = 0; round < ROUNDS; round++) {
    const cache = join(work, `cache-direct-${round}`)
    const dpm = await startNode(`dpm-${round}`)
    const running = await startNode(`dpm-running-${round}`, served)
    const direct = async (): Promise<void> => { times.direct!.push(await npmCi('direct', registry, { cache })) }
    // the node's own CPU: on two cores it competes with npm, which is CPU-bound itself. It
    // counts what the node still does once npm is done (writing blocks of what it answered),
    // which the next install must not share the cores with
    const through = async (node: SpawnedNode, system: string, into: { user: number, kernel: number }): Promise<number> =>
      await countingCpu(node.child.pid!, into, async () => {
        const seconds = await npmCi(system, `${node.url}/npm/`)
        await quiet(node.child.pid!)
        return seconds
      })
    const cold = async (): Promise<void> => { times['dpm cold']!.push(await through(dpm, 'dpm cold', cpu.cold)) }
    const coldRunning = async (): Promise<void> => {
      times['dpm cold, running node']!.push(await through(running, 'dpm cold, running node', cpu.running))
      await running.stop()
    }
    // each goes first in turn: were the upstream to cache, the later ones would always gain
    const steps = [direct, cold, coldRunning]
    for (let i = 0; i < steps.length; i++) await steps[(round + i) % steps.length]!()
    // then the warm ones, each going first in turn (the offline floor reads the cache the direct install filled)
    const warm = async (): Promise<void> => {
      times['dpm warm']!.push(await through(dpm, 'dpm warm', cpu.warm))
      await dpm.stop()
    }
    const verdaccioWarm = async (): Promise<void> => {
      times['Verdaccio warm']!.push(await npmCi('Verdaccio warm', `${verdaccio.url}/`))
      await quiet(verdaccio.pid)
    }
    const offline = async (): Promise<void> => { times['npm offline floor']!.push(await npmCi('npm offline floor', registry, { cache, offline: true })) }
    const warmSteps = [warm, verdaccioWarm, offline]
    for (let i = 0; i < warmSteps.length; i++) await warmSteps[(round + i) % warmSteps.length]!()
  }

  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
  console.log(`\n\`npm ci\` of ${packages} packages (${Object.keys(DEPENDENCIES).join(', ')}), empty npm cache, median of ${ROUNDS} rounds (systems take turns)`)
  console.log('| | seconds | all runs |')
  console.log('| --- | --- | --- |')
  for (const [k, v] of Object.entries(times)) console.log(`| ${k} | ${m[k]!.toFixed(1)} | ${v.map((x) => x.toFixed(1)).join(', ')} |`)
  const perInstall = (c: { user: number, kernel: number }): string => `${(c.user / ROUNDS).toFixed(1)} s user + ${(c.kernel / ROUNDS).toFixed(1)} s kernel`
  console.log(`\nthe node's CPU per install, mean of ${ROUNDS}: cold ${perInstall(cpu.cold)}, cold on a running node ${perInstall(cpu.running)}, warm ${perInstall(cpu.warm)}`)
  // on two cores, what the node uses and what it saves npm (smaller documents, no TLS) decide the cold install
  console.log(`npm's own CPU per install, mean of ${ROUNDS}: ${Object.keys(times).map((k) => `${k} ${perInstall(npmCpu.get(k)!)}`).join(', ')}`)
  console.log(`\nthe running node had served ${served.length} packages of another tree (${Object.keys(OTHER_DEPENDENCIES).join(', ')}), none of them this project's`)
  console.log(`\ndpm cold / direct: ${(m['dpm cold']! / m.direct!).toFixed(2)}   dpm cold, running node / direct: ${(m['dpm cold, running node']! / m.direct!).toFixed(2)}   dpm warm / npm offline floor: ${(m['dpm warm']! / m['npm offline floor']!).toFixed(2)}   Verdaccio warm / npm offline floor: ${(m['Verdaccio warm']! / m['npm offline floor']!).toFixed(2)}`)
} finally {
  for (const node of nodes) await node.stop()
  stopVerdaccio()
  await rm(work, { recursive: true, force: true })
}
