import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeNpmRegistry, fakeTarballDigest } from './test/helpers/fake-npm-registry.ts'
import { spawnNode } from './test/helpers/spawn-node.ts'
const MiB = 1024 * 1024, size = Number(process.env.SIZE ?? 256) * MiB
const key = execFileSync(process.execPath, ['src/cli/main.ts', 'swarm-key', 'generate'], { encoding: 'utf8' })
const up = await startFakeNpmRegistry()
up.publish('big', { version: '1.0.0', tarball: { size } })
const a = await spawnNode({ nodeOptions: process.env.PROFA ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [], dataDir: await mkdtemp(join(tmpdir(), 'a-')), env: { DPM_NPM_UPSTREAM: up.url, DPM_SWARM_KEY: key, DPM_LOG_LEVEL: 'debug' } })
const ah = await (await fetch(`${a.url}/-/health`)).json() as any
let t = performance.now()
for await (const _ of (await fetch(`${a.url}/npm/big/-/big-1.0.0.tgz`)).body!) {}
console.log('A MISS', Math.round(performance.now() - t), 'ms')
const b = await spawnNode({ nodeOptions: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [], dataDir: await mkdtemp(join(tmpdir(), 'b-')), env: { DPM_NPM_UPSTREAM: 'http://127.0.0.1:9/', DPM_SWARM_KEY: key, DPM_BOOTSTRAP: ah.multiaddrs[0], DPM_LOG_LEVEL: 'debug' } })
await new Promise(r => setTimeout(r, Number(process.env.WAIT ?? 3000)))
t = performance.now()
const r = await fetch(`${b.url}/npm/big/-/big-1.0.0.tgz`)
const h = createHash('sha512'); let n = 0
let last = performance.now(), lastN = 0
try { for await (const c of r.body!) { h.update(c); n += c.byteLength; const now = performance.now(); if (now - last > 1000) { console.log(`t=${Math.round(now - t)} ${Math.round((n - lastN) / MiB / ((now - last) / 1000))} MiB/s`); last = now; lastN = n } } } catch (e) { console.log('body error', (e as Error).message) }
console.log('B', r.headers.get('x-cache'), n / MiB, 'MiB', Math.round(performance.now() - t), 'ms', h.digest('base64') === fakeTarballDigest({ size }), 'rssA', Math.round(await a.peakRss() / MiB), 'rssB', Math.round(await b.peakRss() / MiB))
console.log('A:', a.logs.filter(l => /index|peer|snapshot|gossip/.test(String(l.msg))).map(l => JSON.stringify(l)).join('\n'))
console.log(b.logs.filter(l => l.msg !== 'request').map(l => JSON.stringify(l)).slice(0, 30).join('\n'))
console.log((await (await fetch(a.url + '/-/metrics')).text()).split('\n').filter(l => /^libp2p_data_transfer|^libp2p_protocol/.test(l)).join('\n'))
await b.stop(); await a.stop(); await up.close()
