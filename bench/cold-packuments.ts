// What a cold node adds to one packument: the time to the last byte of npm's
// request (its abbreviated `Accept`) for large and small packuments, direct to
// the registry, through a fresh node (cold: it fetches, parses, abbreviates,
// renders and stores the document) and through the same node again (warm).
// Each client keeps its connections alive, as npm does. Direct and the node
// (cold, then warm: warm must follow its own cold fetch) take turns going first,
// round after round, a fresh node each round; medians, cold − direct and
// cold / direct are printed.
// Run alone: `npm run bench:cold-packuments` (BENCH_ROUNDS, default 5). Needs
// the npm registry this host uses.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { NPM_ACCEPT } from '../test/helpers/npm-client.ts'
import { spawnNode } from '../test/helpers/spawn-node.ts'
import { median } from './helpers/median.ts'
import { packumentPath as path } from './helpers/npm-paths.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const NAMES = ['typescript', '@types/node', 'webpack', 'eslint', 'express', 'lodash']

const registry = (await promisify(execFile)('npm', ['config', 'get', 'registry'])).stdout.trim().replace(/\/?$/, '/')

/** Milliseconds to the last byte, and the bytes. */
async function timed (url: string): Promise<{ ms: number, bytes: number }> {
  const started = performance.now()
  const response = await fetch(url, { headers: { accept: NPM_ACCEPT } })
  if (!response.ok) throw new Error(`${url}: ${response.status}`)
  const bytes = (await response.arrayBuffer()).byteLength
  return { ms: performance.now() - started, bytes }
}

const times = new Map(NAMES.map((name) => [name, { direct: [] as number[], cold: [] as number[], warm: [] as number[], upstreamBytes: 0, servedBytes: 0 }]))
const work = await mkdtemp(join(tmpdir(), 'dpm-bench-cold-packuments-'))
try {
  // a connection to the registry opened before the first measurement, as the node opens its own with its first fetch
  await timed(`${registry}${path('lodash')}`)
  for (let round = 0; round < ROUNDS; round++) {
    const node = await spawnNode({ dataDir: join(work, `dpm-${round}`), env: { DPM_NPM_UPSTREAM: registry } })
    try {
      await timed(`${node.url}/npm/${path('semver')}`) // its upstream connection, opened
      for (const name of NAMES) {
        const t = times.get(name)!
        const turns = [
          async () => {
            const direct = await timed(`${registry}${path(name)}`)
            t.direct.push(direct.ms)
            t.upstreamBytes = direct.bytes
          },
          async () => {
            const cold = await timed(`${node.url}/npm/${path(name)}`)
            const warm = await timed(`${node.url}/npm/${path(name)}`)
            t.cold.push(cold.ms)
            t.warm.push(warm.ms)
            t.servedBytes = cold.bytes
          }
        ]
        for (let i = 0; i < turns.length; i++) await turns[(i + round) % turns.length]!()
      }
    } finally {
      await node.stop()
    }
  }
  console.log(`one packument with npm's Accept, ms to the last byte, median of ${ROUNDS} rounds (a fresh node each round)`)
  console.log('| packument | upstream sends | node sends | direct | cold | warm | cold − direct | cold / direct |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  const MB = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`
  for (const [name, t] of times) {
    const [direct, cold, warm] = [median(t.direct), median(t.cold), median(t.warm)]
    console.log(`| ${name} | ${MB(t.upstreamBytes)} | ${MB(t.servedBytes)} | ${direct.toFixed(0)} | ${cold.toFixed(0)} | ${warm.toFixed(1)} | ${(cold - direct).toFixed(0)} | ${(cold / direct).toFixed(2)} |`)
  }
} finally {
  await rm(work, { recursive: true, force: true })
}
