// How fast a node serves an artifact: cold (MISS, from a local upstream), cached
// (HIT, from its blockstore), against nginx serving the same bytes from a file,
// all in one run on this machine. Run alone: `npm run bench:serve`
// (BENCH_SIZE_MIB sets the artifact size, default 256). Needs nginx and curl.
import { execFile, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { generateTarball, startFakeNpmRegistry } from '../test/helpers/fake-npm-registry.ts'
import { spawnNode } from '../test/helpers/spawn-node.ts'
import { freePort } from './helpers/free-port.ts'

const MiB = 1024 * 1024
const size = Number(process.env.BENCH_SIZE_MIB ?? 256) * MiB
const RUNS = 3

/** Download with curl (a separate process) to /dev/null; returns MiB/s. */
async function curl (url: string): Promise<number> {
  const { stdout } = await promisify(execFile)('curl', ['-sf', '-o', '/dev/null', '-w', '%{size_download} %{speed_download}', url])
  const [bytes, speed] = stdout.split(' ').map(Number)
  if (bytes !== size) throw new Error(`${url}: got ${bytes} bytes, expected ${size}`)
  return speed! / MiB
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const work = await mkdtemp(join(tmpdir(), 'dpm-bench-'))
const upstream = await startFakeNpmRegistry()
upstream.publish('big', { version: '1.0.0', tarball: { size } })
await pipeline(ReadableStream.from(generateTarball(size)), createWriteStream(join(work, 'big-1.0.0.tgz')))

const nginxPort = await freePort()
await writeFile(join(work, 'nginx.conf'), `
daemon off; user root; worker_processes 1; error_log stderr; pid ${work}/nginx.pid;
events {}
http { access_log off; sendfile on; server { listen 127.0.0.1:${nginxPort}; root ${work}; } }`)
const nginx = spawn('nginx', ['-p', work, '-c', join(work, 'nginx.conf')], { stdio: 'inherit' })
await new Promise((resolve) => setTimeout(resolve, 300))

const dpm = await spawnNode({ dataDir: join(work, 'data'), env: { DPM_NPM_UPSTREAM: upstream.url } })
try {
  const artifact = `${dpm.url}/npm/big/-/big-1.0.0.tgz`
  const miss = await curl(artifact)
  const hit = median(await Array.fromAsync({ length: RUNS }, () => curl(artifact)))
  const file = median(await Array.fromAsync({ length: RUNS }, () => curl(`http://127.0.0.1:${nginxPort}/big-1.0.0.tgz`)))
  const rss = await dpm.peakRss()
  console.log(`artifact: ${size / MiB} MiB, median of ${RUNS} runs where repeated`)
  console.log(`dpm MISS (fake upstream on loopback): ${miss.toFixed(0)} MiB/s`)
  console.log(`dpm HIT:                              ${hit.toFixed(0)} MiB/s`)
  console.log(`nginx, same bytes from a file:        ${file.toFixed(0)} MiB/s`)
  console.log(`HIT / nginx: ${(hit / file).toFixed(2)}   dpm peak RSS: ${(rss / MiB).toFixed(0)} MiB`)
} finally {
  await dpm.stop()
  nginx.kill()
  await upstream.close()
  await rm(work, { recursive: true, force: true })
}
