// `pip download` of a whole index — its projects, their wheels and, with them,
// Debian's wheels of pip and setuptools — direct from a static index (pages on
// one host, files on another, as PyPI has them) and through a node: cold (a fresh
// node each round) and warm. Direct and the node (cold, then warm on the same
// node, each once the node is idle) take turns going first, round after round;
// medians and ratios are printed.
// Run alone: `npm run bench:pypi` (BENCH_ROUNDS, default 5). Needs python3-venv.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createVenv } from '../test/helpers/pip-client.ts'
import { spawnNode, type SpawnedNode } from '../test/helpers/spawn-node.ts'
import { startStaticPypi } from '../test/helpers/static-pypi.ts'
import { quiet } from './helpers/cpu-time.ts'
import { median } from './helpers/median.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
/** Forty small projects in four layers, each depending on two of the layer below. */
const PROJECTS = Array.from({ length: 40 }, (_, i) => ({
  name: `bench-${i}`,
  version: '1.0.0',
  requires: i < 10 ? [] : [`bench-${(i * 7) % 10 + 10 * Math.floor(i / 10 - 1)}`, `bench-${(i * 3 + 1) % 10 + 10 * Math.floor(i / 10 - 1)}`]
}))
const DEBIAN_WHEELS = '/usr/share/python-wheels'

const work = await mkdtemp(join(tmpdir(), 'dpm-bench-pypi-'))
const wheels = (await readdir(DEBIAN_WHEELS)).filter((f) => f.endsWith('.whl')).map((f) => join(DEBIAN_WHEELS, f))
const upstream = await startStaticPypi({ projects: PROJECTS, wheels })
const venv = await createVenv()
const everything = [...PROJECTS.map((p) => p.name), 'pip', 'setuptools']
let downloads = 0

/** Seconds for `pip download` of everything into an empty directory. */
async function download (index: string): Promise<number> {
  const dest = join(work, `download-${downloads++}`)
  const started = performance.now()
  const result = await venv.pip('download', '--index-url', index, '--dest', dest, ...everything)
  const seconds = (performance.now() - started) / 1000
  if (!result.ok) throw new Error(`pip download from ${index} failed: ${result.stderr.slice(-1500)}`)
  await rm(dest, { recursive: true, force: true })
  return seconds
}

const nodes: SpawnedNode[] = []
const times = { direct: [] as number[], cold: [] as number[], warm: [] as number[] }
try {
  for (let round = 0; round < ROUNDS; round++) {
    const node = await spawnNode({ dataDir: join(work, `node-${round}`), env: { DPM_PYPI_UPSTREAM: upstream.indexUrl, DPM_LOG_LEVEL: 'info' } })
    nodes.push(node)
    const turns = [
      async () => { times.direct.push(await download(upstream.indexUrl)) },
      // warm follows the node's own cold download
      async () => {
        times.cold.push(await download(`${node.url}/pypi/simple/`))
        await quiet(node.child.pid!)
        times.warm.push(await download(`${node.url}/pypi/simple/`))
        await quiet(node.child.pid!)
      }
    ]
    for (let i = 0; i < turns.length; i++) await turns[(i + round) % turns.length]!()
    await node.stop()
  }
  const direct = median(times.direct)
  console.log(`pip download of ${everything.length} projects (${ROUNDS} rounds, medians)`)
  console.log(`direct from the static index: ${direct.toFixed(2)} s`)
  console.log(`through a node, cold: ${median(times.cold).toFixed(2)} s (${(median(times.cold) / direct).toFixed(2)}×)`)
  console.log(`through a node, warm: ${median(times.warm).toFixed(2)} s (${(median(times.warm) / direct).toFixed(2)}×)`)
} finally {
  for (const node of nodes) await node.stop()
  await venv.remove()
  await upstream.close()
  await rm(work, { recursive: true, force: true })
}
