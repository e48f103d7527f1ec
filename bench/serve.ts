// How fast a node serves an artifact: cold (MISS, from a local upstream) once,
// then cached (HIT, from its blockstore) against nginx serving the same bytes
// from a file, to one client and to 8 at once, the two taking turns round after
// round. Hits are served by a node restarted on the filled store, so its peak
// RSS is that of serving hits alone. Run alone: `npm run bench:serve`
// (BENCH_SIZE_MIB sets the artifact size, default 1024; BENCH_ROUNDS, default 9:
// a hit to one client takes under half a second, so one run needs many for
// its medians to settle: with 5, runs of the same code gave 0.70× to 1.05×).
// Needs nginx and curl.
import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { generateTarball, startFakeNpmRegistry } from '../test/helpers/fake-npm-registry.ts'
import { spawnNode } from '../test/helpers/spawn-node.ts'
import { countingCpu } from './helpers/cpu-time.ts'
import { median } from './helpers/median.ts'
import { startNginx } from './helpers/nginx.ts'

const MiB = 1024 * 1024
const size = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)
const CLIENTS = 8

/** Download with curl (a separate process) to /dev/null; returns MiB/s. */
async function curl (url: string): Promise<number> {
  const { stdout } = await promisify(execFile)('curl', ['-sf', '-o', '/dev/null', '-w', '%{size_download} %{speed_download}', url])
  const [bytes, speed] = stdout.split(' ').map(Number)
  if (bytes !== size) throw new Error(`${url}: got ${bytes} bytes, expected ${size}`)
  return speed! / MiB
}

/** `clients` downloads at once; returns the MiB/s of all of them together. */
async function together (url: string, clients: number): Promise<number> {
  const started = performance.now()
  await Promise.all(Array.from({ length: clients }, () => curl(url)))
  return (clients * size / MiB) / ((performance.now() - started) / 1000)
}

const work = await mkdtemp(join(tmpdir(), 'dpm-bench-'))
const upstream = await startFakeNpmRegistry()
upstream.publish('big', { version: '1.0.0', tarball: { size } })
await pipeline(ReadableStream.from(generateTarball(size)), createWriteStream(join(work, 'big-1.0.0.tgz')))

const nginx = await startNginx(work)

const dataDir = join(work, 'data')
const env = { DPM_NPM_UPSTREAM: upstream.url }
try {
  const filling = await spawnNode({ dataDir, env })
  const miss = await curl(`${filling.url}/npm/big/-/big-1.0.0.tgz`)
  const missRss = await filling.peakRss()
  await filling.stop()

  const dpm = await spawnNode({ dataDir, env })
  try {
    const artifact = `${dpm.url}/npm/big/-/big-1.0.0.tgz`
    const file = `${nginx.url}/big-1.0.0.tgz`
    const times = { hit: [] as number[], file: [] as number[], hit8: [] as number[], file8: [] as number[] }
    // what serving costs each server, all its threads: both send a hit with sendfile(2) (the node through native/send-file.c)
    const cpu = { dpm: { user: 0, kernel: 0 }, nginx: { user: 0, kernel: 0 } }
    const servedGiB = ROUNDS * (1 + CLIENTS) * size / (1024 * MiB)
    for (let round = 0; round < ROUNDS; round++) {
      const turns = [
        () => countingCpu(dpm.child.pid!, cpu.dpm, async () => { times.hit.push(await curl(artifact)); times.hit8.push(await together(artifact, CLIENTS)) }),
        () => countingCpu(nginx.worker, cpu.nginx, async () => { times.file.push(await curl(file)); times.file8.push(await together(file, CLIENTS)) })
      ]
      for (let i = 0; i < turns.length; i++) await turns[(i + round) % turns.length]!()
    }
    const hitRss = await dpm.peakRss()
    const ratio = (a: number[], b: number[]): string => (median(a) / median(b)).toFixed(2)
    console.log(`artifact: ${size / MiB} MiB; medians of ${ROUNDS} rounds, node and nginx taking turns`)
    console.log(`dpm MISS (fake upstream on loopback), once: ${miss.toFixed(0)} MiB/s, peak RSS ${(missRss / MiB).toFixed(0)} MiB`)
    console.log(`1 client:  dpm HIT ${median(times.hit).toFixed(0)} MiB/s, nginx ${median(times.file).toFixed(0)} MiB/s, HIT / nginx ${ratio(times.hit, times.file)}`)
    console.log(`${CLIENTS} clients: dpm HIT ${median(times.hit8).toFixed(0)} MiB/s, nginx ${median(times.file8).toFixed(0)} MiB/s in all, HIT / nginx ${ratio(times.hit8, times.file8)}`)
    const perGiB = (c: { user: number, kernel: number }): string => `${(c.user / servedGiB).toFixed(2)} s user + ${(c.kernel / servedGiB).toFixed(2)} s kernel`
    console.log(`CPU per GiB served: dpm ${perGiB(cpu.dpm)}, nginx ${perGiB(cpu.nginx)}`)
    console.log(`peak RSS of the node serving hits: ${(hitRss / MiB).toFixed(0)} MiB`)
  } finally {
    await dpm.stop()
  }
} finally {
  await nginx.stop()
  await upstream.close()
  await rm(work, { recursive: true, force: true })
}
