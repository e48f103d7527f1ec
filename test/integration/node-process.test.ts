import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { fakeTarballDigest, startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { spawnNode, type SpawnedNode } from '../helpers/spawn-node.ts'

const MiB = 1024 * 1024
const HEAP_LIMIT_MB = 64
/** Six times the heap limit: a node that buffered it would die. */
const BIG = { size: 6 * HEAP_LIMIT_MB * MiB }
/**
 * What a transfer may add to peak RSS, whatever its size: read-ahead, socket and
 * spool buffers, and malloc's huge pages. 17–48 MiB were seen serving 192 MiB.
 */
const GROWTH_LIMIT = 64 * MiB

async function sha512Of (response: Response): Promise<{ digest: string, bytes: number }> {
  const hash = createHash('sha512')
  let bytes = 0
  for await (const chunk of response.body!) { hash.update(chunk); bytes += chunk.byteLength }
  return { digest: hash.digest('base64'), bytes }
}

describe('a node as its own process', () => {
  let upstream: FakeNpmRegistry
  let dataDir: string
  let dpm: SpawnedNode

  before(async () => {
    upstream = await startFakeNpmRegistry()
    upstream.publish('big', { version: '1.0.0', tarball: BIG })
    upstream.publish('big', { version: '2.0.0', tarball: { size: 48 * MiB } })
    upstream.publish('warm-up', { version: '1.0.0', tarball: { size: 16 * MiB } })
    dataDir = await mkdtemp(join(tmpdir(), 'dpm-proc-'))
    dpm = await spawnNode({ dataDir, env: { DPM_NPM_UPSTREAM: upstream.url }, nodeOptions: [`--max-old-space-size=${HEAP_LIMIT_MB}`] })
  })
  after(async () => {
    await dpm.stop()
    await upstream.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('streams a tarball six times its heap limit through, cold and cached, with flat memory', async () => {
    // the steady state: buffers, pools and code that any transfer brings in
    for (let i = 0; i < 2; i++) await sha512Of(await fetch(`${dpm.url}/npm/warm-up/-/warm-up-1.0.0.tgz`))
    const baseline = await dpm.peakRss()
    const expected = fakeTarballDigest(BIG)
    const cold = await fetch(`${dpm.url}/npm/big/-/big-1.0.0.tgz`)
    assert.equal(cold.headers.get('x-cache'), 'MISS')
    assert.equal(cold.headers.get('content-length'), String(BIG.size))
    assert.deepEqual(await sha512Of(cold), { digest: expected, bytes: BIG.size })

    const cached = await fetch(`${dpm.url}/npm/big/-/big-1.0.0.tgz`)
    assert.equal(cached.headers.get('x-cache'), 'HIT')
    assert.deepEqual(await sha512Of(cached), { digest: expected, bytes: BIG.size })

    const growth = (await dpm.peakRss()) - baseline
    console.log(`peak RSS grew by ${Math.round(growth / MiB)} MiB serving ${BIG.size / MiB} MiB cold and cached`)
    assert.ok(growth < GROWTH_LIMIT, `peak RSS grew by ${Math.round(growth / MiB)} MiB: memory must not follow the artifact's ${BIG.size / MiB} MiB`)
    assert.equal(dpm.child.exitCode, null, 'the node is still running')
  })

  it('on SIGTERM finishes in-flight responses, then exits 0', async () => {
    const response = await fetch(`${dpm.url}/npm/big/-/big-2.0.0.tgz`)
    assert.equal(response.status, 200)
    dpm.child.kill('SIGTERM')
    const received = await sha512Of(response)
    assert.deepEqual(received, { digest: fakeTarballDigest({ size: 48 * MiB }), bytes: 48 * MiB })
    assert.equal(await dpm.exited, 0)
    assert.ok(dpm.logs.some((l) => l.msg === 'stopped'))
    await assert.rejects(fetch(`${dpm.url}/-/health`), 'no longer accepting')
  })
})

describe('dpm start with a bad setting', () => {
  it('exits 2 with one line that names the setting', () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
    const run = spawnSync(process.execPath, [main, 'start'], { env: { ...process.env, DPM_HTTP_PORT: 'eighty', DPM_NPM_UPSTREAM: 'http://127.0.0.1:9/' }, encoding: 'utf8' })
    assert.equal(run.status, 2)
    assert.equal(run.stdout, '')
    assert.match(run.stderr, /^dpm: DPM_HTTP_PORT: expected a port number from 0 to 65535 \(got "eighty"\)\n$/)
  })
})
