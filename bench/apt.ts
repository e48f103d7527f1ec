// `apt-get update` and `apt-get download` of the same 20 packages, with fresh apt
// state each time, through a node and through apt-cacher-ng (Debian's, on loopback
// with its own configuration) in front of the Debian mirror this host uses: cold
// (a fresh cache each round) and warm, and direct to the mirror. The systems take
// turns, round after round, each cache measured warm and the next system started
// only once it is idle (what it stores behind its answers is its own run's work);
// medians and ratios are printed.
// Run alone: `npm run bench:apt` (BENCH_ROUNDS, default 3). Needs apt-cacher-ng.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAptClient, hostDebianMirror } from '../test/helpers/apt-client.ts'
import { spawnNode } from '../test/helpers/spawn-node.ts'
import { startAptCacherNg } from './helpers/apt-cacher-ng.ts'
import { quiet } from './helpers/cpu-time.ts'
import { median } from './helpers/median.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const PACKAGES = ['hello', 'tree', 'jq', 'libjq1', 'libonig5', 'bc', 'less', 'file', 'libmagic1', 'libmagic-mgc', 'zstd', 'libstdc++6', 'curl', 'libcurl4', 'wget', 'git', 'vim-tiny', 'nano', 'rsync', 'make']
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'

const mirror = await hostDebianMirror()
if (mirror === undefined) throw new Error('this host\'s apt sources name no Debian mirror')
const work = await mkdtemp(join(tmpdir(), 'dpm-bench-apt-'))

/** Seconds for `apt-get update` then `apt-get download` of every package, with fresh apt state. */
async function updateAndDownload (uri: string): Promise<number> {
  const apt = await createAptClient([{ uri, suites: mirror!.suite, components: 'main', signedBy: KEYRING }])
  try {
    const started = performance.now()
    const updated = await apt.update()
    if (!updated.ok) throw new Error(`apt-get update through ${uri}: ${updated.stderr}`)
    const downloaded = await apt.download(PACKAGES)
    if (!downloaded.ok || downloaded.files.length !== PACKAGES.length) throw new Error(`apt-get download through ${uri}: ${downloaded.stderr}`)
    return (performance.now() - started) / 1000
  } finally {
    await apt.remove()
  }
}

const times = { direct: [] as number[], dpmCold: [] as number[], dpmWarm: [] as number[], acngCold: [] as number[], acngWarm: [] as number[] }
const mirrorPath = mirror.uri.replace(/^https?:\/\//, '').replace(/\/$/, '')
try {
  for (let round = 0; round < ROUNDS; round++) {
    const node = await spawnNode({ dataDir: join(work, `node-${round}`), env: { DPM_APT_UPSTREAMS: `debian=${mirror.uri}` } })
    const acng = await startAptCacherNg(join(work, `acng-${round}`))
    try {
      const systems: Array<() => Promise<void>> = [
        async () => { times.direct.push(await updateAndDownload(mirror.uri)) },
        async () => {
          times.dpmCold.push(await updateAndDownload(`${node.url}/apt/debian`))
          await quiet(node.child.pid!)
          times.dpmWarm.push(await updateAndDownload(`${node.url}/apt/debian`))
          await quiet(node.child.pid!)
        },
        async () => {
          times.acngCold.push(await updateAndDownload(`${acng.url}${mirrorPath}`))
          await quiet(acng.pid)
          times.acngWarm.push(await updateAndDownload(`${acng.url}${mirrorPath}`))
          await quiet(acng.pid)
        }
      ]
      // each round in another order, so neither cache always meets a warmer mirror
      for (let i = 0; i < systems.length; i++) await systems[(i + round) % systems.length]!()
    } finally {
      await node.stop()
      await acng.stop()
    }
  }
  const row = (name: string, xs: number[], against?: number[]): string =>
    `${name}: ${median(xs).toFixed(2)} s${against === undefined ? '' : ` (${(median(xs) / median(against)).toFixed(2)}×)`}`
  console.log(`apt-get update + download of ${PACKAGES.length} packages, fresh apt state each time (${ROUNDS} rounds, medians)`)
  console.log(row('direct to the mirror', times.direct))
  console.log(row('through a node, cold', times.dpmCold, times.direct) + ' of direct')
  console.log(row('through apt-cacher-ng, cold', times.acngCold, times.direct) + ' of direct')
  console.log(row('through a node, warm', times.dpmWarm, times.acngWarm) + ' of apt-cacher-ng warm')
  console.log(row('through apt-cacher-ng, warm', times.acngWarm))
} finally {
  await rm(work, { recursive: true, force: true })
}
