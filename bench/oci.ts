// `skopeo copy --all` of a multi-layer image (two platforms, 8 layers, 256 MiB)
// from Debian's docker-registry: direct, through a node and through a second
// docker-registry in proxy mode (`proxy: remoteurl:`, the Docker distribution
// pull-through cache) on the same upstream, cold (fresh caches each round) and
// warm. The systems take turns, round after round, each cache measured warm and
// the next system started only once it is idle; medians and ratios are printed.
// Run alone: `npm run bench:oci` (BENCH_ROUNDS, default 3). Needs docker-registry and skopeo.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startDockerRegistry, startOciRegistry } from '../test/helpers/oci-registry.ts'
import { spawnNode } from '../test/helpers/spawn-node.ts'
import { quiet } from './helpers/cpu-time.ts'
import { median } from './helpers/median.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const LAYER_BYTES = 32 * 1024 * 1024
const work = await mkdtemp(join(tmpdir(), 'dpm-bench-oci-'))
const upstream = await startOciRegistry({ layers: 4, layerBytes: LAYER_BYTES })
const { repository, tag } = upstream.image
let pulls = 0

/** Seconds for `skopeo copy --all` of the image at `ref` into a fresh OCI layout. */
async function pull (ref: string): Promise<number> {
  const out = join(work, `pull-${pulls++}`)
  const started = performance.now()
  await promisify(execFile)('skopeo', ['copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:x`])
  const seconds = (performance.now() - started) / 1000
  await rm(out, { recursive: true, force: true })
  return seconds
}

/**
 * Waits until the node has stored everything the cold pull fetched: a client
 * finishes when the last byte arrives, while the node may still be importing
 * the last layers. Warm means cached, not racing those imports.
 */
async function settled (nodeUrl: string): Promise<void> {
  for (;;) {
    const metrics = await (await fetch(`${nodeUrl}/-/metrics`)).text()
    if (/^dpm_inflight_fills 0$/m.test(metrics)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const times = { direct: [] as number[], dpmCold: [] as number[], dpmWarm: [] as number[], proxyCold: [] as number[], proxyWarm: [] as number[] }
const host = (url: string): string => new URL(url).host
try {
  for (let round = 0; round < ROUNDS; round++) {
    const node = await spawnNode({ dataDir: join(work, `node-${round}`), env: { DPM_OCI_UPSTREAMS: `reg.test=${upstream.direct}` } })
    const proxy = await startDockerRegistry(join(work, `proxy-${round}`), `proxy: { remoteurl: ${upstream.direct} }`)
    try {
      const systems: Array<() => Promise<void>> = [
        async () => { times.direct.push(await pull(`${host(upstream.direct)}/${repository}:${tag}`)) },
        async () => {
          times.dpmCold.push(await pull(`${host(node.url)}/reg.test/${repository}:${tag}`))
          await settled(node.url)
          await quiet(node.child.pid!)
          times.dpmWarm.push(await pull(`${host(node.url)}/reg.test/${repository}:${tag}`))
          await quiet(node.child.pid!)
        },
        async () => {
          times.proxyCold.push(await pull(`${host(proxy.url)}/${repository}:${tag}`))
          await quiet(proxy.pid)
          times.proxyWarm.push(await pull(`${host(proxy.url)}/${repository}:${tag}`))
          await quiet(proxy.pid)
        }
      ]
      for (let i = 0; i < systems.length; i++) await systems[(i + round) % systems.length]!()
    } finally {
      await node.stop()
      await proxy.stop()
    }
  }
  const row = (name: string, xs: number[], against?: number[], label = ''): string =>
    `${name}: ${median(xs).toFixed(2)} s${against === undefined ? '' : ` (${(median(xs) / median(against)).toFixed(2)}× ${label})`}`
  console.log(`skopeo copy --all of a 2-platform, 8-layer, ${(8 * LAYER_BYTES) >> 20} MiB image (${ROUNDS} rounds, medians)`)
  console.log(row('direct from the registry', times.direct))
  console.log(row('through a node, cold', times.dpmCold, times.direct, 'direct'))
  console.log(row('through the distribution proxy, cold', times.proxyCold, times.direct, 'direct'))
  console.log(row('through a node, warm', times.dpmWarm, times.proxyWarm, 'the proxy warm'))
  console.log(row('through the distribution proxy, warm', times.proxyWarm))
} finally {
  await upstream.close()
  await rm(work, { recursive: true, force: true })
}
