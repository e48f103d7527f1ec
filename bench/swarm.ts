// Bitswap between two nodes against plain HTTP from the seeder's gateway, in one
// run: node A holds an artifact; B (no upstream) pulls it over Bitswap through its
// own gateway (X-Cache: PEER); H, a node like B but with A's gateway as its npm
// upstream, pulls the same bytes over plain HTTP (X-Cache: MISS). Both verify the
// digest and store the artifact as they stream it, so the ratio compares the
// transports. A client reading A's gateway directly shows the wire's limit.
// Then a fan-out: one seeder, 4 leechers fetching at once.
// Run alone: `npm run bench:swarm` (BENCH_SIZE_MIB, default 1024; BENCH_FANOUT_MIB, default 256;
// BENCH_ROUNDS of the A → B comparison, default 3, a fresh B and H each, taking turns).
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startFakeNpmRegistry } from '../test/helpers/fake-npm-registry.ts'
import { spawnNode, type SpawnedNode } from '../test/helpers/spawn-node.ts'
import { generateSwarmKey } from '../test/helpers/swarm-key.ts'
import { bitswapBytes, bytesBySender } from '../test/helpers/swarm-metrics.ts'
import { health, waitFor } from '../test/helpers/wait-for.ts'
import { median } from './helpers/median.ts'

const MiB = 1024 * 1024
const size = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB
const fanoutSize = Number(process.env.BENCH_FANOUT_MIB ?? 256) * MiB
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const key = generateSwarmKey()

/** Downloads with curl to /dev/null: bytes, seconds, the X-Cache header, and whether it completed. */
async function curl (url: string): Promise<{ bytes: number, seconds: number, cache: string, ok: boolean }> {
  const result = await promisify(execFile)('curl', ['-sf', '-o', '/dev/null', '-D', '-', '-w', '\n%{size_download} %{time_total}', url], { maxBuffer: 1 << 20 })
    .then(({ stdout }) => ({ stdout, ok: true }), (err: { stdout: string }) => ({ stdout: err.stdout, ok: false }))
  const [bytes, seconds] = result.stdout.trim().split('\n').at(-1)!.split(' ').map(Number)
  return { bytes: bytes!, seconds: seconds!, cache: /x-cache: (\w+)/i.exec(result.stdout)?.[1] ?? '?', ok: result.ok }
}

const work = await mkdtemp(join(tmpdir(), 'dpm-bench-swarm-'))
const upstream = await startFakeNpmRegistry()
const dead = await startFakeNpmRegistry()
dead.mode = 'down'
upstream.publish('big', { version: '1.0.0', tarball: { size } })
upstream.publish('fan', { version: '1.0.0', tarball: { size: fanoutSize } })
const nodes: SpawnedNode[] = []
const start = async (name: string, env: Record<string, string>): Promise<SpawnedNode> => {
  const node = await spawnNode({ dataDir: join(work, name), env: { DPM_SWARM_KEY: key, DPM_LOG_LEVEL: 'info', ...env } })
  nodes.push(node)
  return node
}
const mibs = (r: { bytes: number, seconds: number }): number => r.bytes / MiB / r.seconds
const records = (node: SpawnedNode): number => node.logs.filter((l) => l.msg === 'pulled a peer\'s index').reduce((n, l) => n + Number(l.records), 0)

try {
  const a = await start('a', { DPM_NPM_UPSTREAM: upstream.url })
  const path = '/npm/big/-/big-1.0.0.tgz'
  await curl(`${a.url}${path}`)
  await curl(`${a.url}/npm/fan/-/fan-1.0.0.tgz`)
  const wire = await curl(`${a.url}${path}`)
  // each round a fresh B and H, taking turns on A
  const runs = { http: [] as number[], bitswap: [] as number[], rssH: 0, rssB: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    const b = await start(`b${round}`, { DPM_NPM_UPSTREAM: dead.url, DPM_BOOTSTRAP: (await health(a.url)).multiaddrs[0]! })
    await waitFor('B to pull A\'s index', () => records(b) >= 4, 60_000)
    const h = await spawnNode({ dataDir: join(work, `h${round}`), env: { DPM_NPM_UPSTREAM: `${a.url}/npm/` } })
    nodes.push(h)
    const turns = [
      async () => {
        const http = await curl(`${h.url}${path}`)
        if (http.bytes !== size || http.cache !== 'MISS') throw new Error(`HTTP run: ${http.bytes} bytes, X-Cache ${http.cache}`)
        runs.http.push(mibs(http))
      },
      async () => {
        const bitswap = await curl(`${b.url}${path}`)
        if (bitswap.bytes !== size || bitswap.cache !== 'PEER') throw new Error(`Bitswap run: ${bitswap.bytes} bytes, X-Cache ${bitswap.cache}`)
        runs.bitswap.push(mibs(bitswap))
      }
    ]
    for (let i = 0; i < turns.length; i++) await turns[(i + round) % turns.length]!()
    runs.rssH = Math.max(runs.rssH, await h.peakRss())
    runs.rssB = Math.max(runs.rssB, await b.peakRss())
    for (const done of [h, b]) {
      await done.stop()
      nodes.splice(nodes.indexOf(done), 1) // stopped, not died
    }
  }
  const each = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ')
  console.log(`artifact ${size / MiB} MiB, A → B on loopback, ${ROUNDS} rounds (medians; each round's figure in brackets)`)
  console.log(`a client reading A's gateway (HIT, the wire's limit): ${mibs(wire).toFixed(0)} MiB/s`)
  console.log(`H fetching from A's gateway over plain HTTP (MISS, verified and stored): ${median(runs.http).toFixed(0)} MiB/s [${each(runs.http)}], peak RSS ${Math.round(runs.rssH / MiB)} MiB`)
  console.log(`B fetching from A over Bitswap (PEER, verified and stored): ${median(runs.bitswap).toFixed(0)} MiB/s [${each(runs.bitswap)}]`)
  console.log(`Bitswap / HTTP: ${(median(runs.bitswap) / median(runs.http)).toFixed(2)}   peak RSS A ${Math.round(await a.peakRss() / MiB)} MiB, B ${Math.round(runs.rssB / MiB)} MiB (the highest of the rounds)`)

  // fan-out: 4 leechers that know the seeder and each other fetch the same artifact at once
  const addresses = [(await health(a.url)).multiaddrs[0]!]
  const leechers: SpawnedNode[] = []
  for (let i = 1; i <= 4; i++) {
    const leecher = await start(`l${i}`, { DPM_NPM_UPSTREAM: dead.url, DPM_BOOTSTRAP: addresses.join(',') })
    addresses.push((await health(leecher.url)).multiaddrs[0]!)
    leechers.push(leecher)
  }
  await waitFor('every leecher to pull the seeder\'s index', () => leechers.every((l) => records(l) >= 4), 60_000)
  const before = await Promise.all([a, ...leechers].map(bitswapBytes))
  const started = performance.now()
  const results = await Promise.all(leechers.map((l) => curl(`${l.url}/npm/fan/-/fan-1.0.0.tgz`)))
  const wall = (performance.now() - started) / 1000
  const after = await Promise.all([a, ...leechers].map(bitswapBytes))
  const sent = after.map((x, i) => x.sent - before[i]!.sent)
  const received = after.map((x, i) => x.received - before[i]!.received)
  console.log(`\nfan-out: ${fanoutSize / MiB} MiB to 4 leechers at once, ${wall.toFixed(1)} s wall, ${(4 * fanoutSize / MiB / wall).toFixed(0)} MiB/s in all`)
  const seederId = (await health(a.url)).peerId
  for (const [i, r] of results.entries()) {
    const useful = await bytesBySender(leechers[i]!)
    const fromSeeder = useful.get(seederId) ?? 0
    const fromOthers = [...useful].filter(([peer]) => peer !== seederId).reduce((n, [, bytes]) => n + bytes, 0)
    console.log(`leecher ${i + 1}: ${r.ok ? `${mibs(r).toFixed(0)} MiB/s` : `FAILED after ${(r.bytes / MiB).toFixed(0)} MiB`} (${r.cache}); first copies from the seeder ${(fromSeeder / MiB).toFixed(0)} MiB, from other leechers ${(fromOthers / MiB).toFixed(0)} MiB; Bitswap received ${(received[i + 1]! / MiB).toFixed(0)} MiB in all (duplicates included), sent ${(sent[i + 1]! / MiB).toFixed(0)} MiB`)
  }
  const fromLeechers = sent.slice(1).reduce((x, y) => x + y, 0)
  console.log(`seeder sent ${(sent[0]! / MiB).toFixed(0)} MiB (${(sent[0]! / fanoutSize).toFixed(2)}× the artifact for 4 leechers), leechers sent each other ${(fromLeechers / MiB).toFixed(0)} MiB (${(100 * fromLeechers / (sent[0]! + fromLeechers)).toFixed(0)} % of all Bitswap bytes)`)
} finally {
  for (const node of nodes) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) console.error(`a node died (${node.child.exitCode ?? node.child.signalCode}): ${node.stderr().slice(-3000)}`)
  }
  for (const node of nodes) await node.stop()
  await upstream.close()
  await dead.close()
  await rm(work, { recursive: true, force: true })
}
