// How fast the FUSE view reads a cached artifact, against the gateway serving
// the same one: `dd bs=1M` through the mount and curl from the gateway on
// loopback, taking turns going first round after round (once the node is idle
// after storing the artifact), medians printed. Run
// alone: `npm run bench:mount` (BENCH_SIZE_MIB, default 256; BENCH_ROUNDS, default 3).
// Needs root, /dev/fuse, Debian's libfuse2 and fuse3, and curl.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startFakeNpmRegistry } from '../test/helpers/fake-npm-registry.ts'
import { spawnNode } from '../test/helpers/spawn-node.ts'
import { waitFor } from '../test/helpers/wait-for.ts'
import { quiet } from './helpers/cpu-time.ts'
import { median } from './helpers/median.ts'

const MiB = 1024 * 1024
const size = Number(process.env.BENCH_SIZE_MIB ?? 256) * MiB
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const run = promisify(execFile)

/** MiB/s of a shell command that reads the whole artifact. */
async function timed (command: string): Promise<number> {
  const started = performance.now()
  await run('sh', ['-c', command])
  return size / MiB / ((performance.now() - started) / 1000)
}

const work = await mkdtemp(join(tmpdir(), 'dpm-bench-mount-'))
const mountDir = join(work, 'mnt')
const upstream = await startFakeNpmRegistry()
upstream.publish('big', { version: '1.0.0', tarball: { size } })
const node = await spawnNode({ dataDir: join(work, 'data'), env: { DPM_NPM_UPSTREAM: upstream.url, DPM_MOUNT: mountDir } })
try {
  await waitFor('the mount', () => node.logs.some((l) => l.msg === 'cache mounted (read-only)'), 30_000)
  const path = '/npm/big/-/big-1.0.0.tgz'
  await run('sh', ['-c', `curl -sf ${node.url}${path} > /dev/null`]) // cold: from here on both read the store
  await quiet(node.child.pid!) // its blocks written, not racing the first turn
  const gateway: number[] = []
  const mount: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const turns = [
      async () => { gateway.push(await timed(`curl -sf ${node.url}${path} > /dev/null`)) },
      async () => { mount.push(await timed(`dd if=${mountDir}${path} of=/dev/null bs=1M status=none`)) }
    ]
    for (let i = 0; i < turns.length; i++) await turns[(i + round) % turns.length]!()
  }
  const g = median(gateway)
  const m = median(mount)
  console.log(`cached ${size / MiB} MiB, ${ROUNDS} rounds`)
  console.log(`gateway (curl):     median ${g.toFixed(0)} MiB/s (${gateway.map((x) => x.toFixed(0)).join(', ')})`)
  console.log(`mount (dd bs=1M):   median ${m.toFixed(0)} MiB/s (${mount.map((x) => x.toFixed(0)).join(', ')}) — ${(m / g).toFixed(2)}× the gateway`)
} finally {
  await node.stop()
  await upstream.close()
  await rm(work, { recursive: true, force: true })
}
