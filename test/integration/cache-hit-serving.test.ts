import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { rm, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { NextToLast } from 'blockstore-fs/sharding'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 as sha256Hasher } from 'multiformats/hashes/sha2'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'

const MiB = 1024 * 1024
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** GET a path and read the body slowly: `pauseMs` after every chunk, or stop after `stopAfter` bytes. */
function slowGet (url: string, options: { pauseMs?: number, stopAfter?: number, range?: string } = {}): Promise<{ status: number, body: Buffer, complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: options.range === undefined ? {} : { range: options.range } }, (res) => {
      const chunks: Buffer[] = []
      let received = 0
      res.on('data', (chunk: Buffer) => {
        chunks.push(Buffer.from(chunk)) // a copy: the socket's buffer is the client's to reuse
        received += chunk.byteLength
        if (options.stopAfter !== undefined && received >= options.stopAfter) {
          req.destroy()
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks), complete: false })
          return
        }
        if (options.pauseMs !== undefined) {
          res.pause()
          setTimeout(() => res.resume(), options.pauseMs)
        }
      })
      // a connection cut midway ends in 'close' (or 'error') with `complete` unset
      const done = (): void => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), complete: res.complete })
      res.on('end', done)
      res.on('close', done)
      res.on('error', done)
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * Cache hits are handed to the kernel (sendfile, `gateway/send-from-disk.ts`)
 * or, without it, written from reused buffers (`store/leaf-buffers.ts`): a
 * buffer taken again before its bytes left would put one response's bytes into
 * another. Both ways keep every promise below.
 */
for (const sendfile of [true, false]) describe(`serving cache hits ${sendfile ? 'by sendfile' : 'from reused buffers'}`, () => {
  let upstream: FakeNpmRegistry
  let dpm: TestNode
  const tarball = randomBytes(12 * MiB + 12345) // 13 leaves, the last one short
  const other = randomBytes(6 * MiB)
  const url = (): string => `${dpm.url}/npm/big/-/big-1.0.0.tgz`

  before(async () => {
    upstream = await startFakeNpmRegistry()
    upstream.publish('big', { version: '1.0.0', tarball })
    upstream.publish('other', { version: '1.0.0', tarball: other })
    dpm = await startTestNode({ npmUpstream: upstream.url, settings: { sendfile } })
    const cold = await fetch(url())
    assert.equal(cold.headers.get('x-cache'), 'MISS')
    assert.equal(sha256(new Uint8Array(await cold.arrayBuffer())), sha256(tarball))
  })
  after(async () => {
    await dpm.destroy()
    await upstream.close()
  })

  it('gives every one of many concurrent, slow, ranged and abandoned readers exactly its bytes', async () => {
    await (await fetch(`${dpm.url}/npm/other/-/other-1.0.0.tgz`)).arrayBuffer()
    const ranges = [[0, MiB], [MiB - 7, 3 * MiB + 11], [5 * MiB + 1, 12 * MiB + 12344], [12 * MiB, 12 * MiB + 12344]] as const
    const readers = [
      ...Array.from({ length: 4 }, () => slowGet(url())),
      slowGet(url(), { pauseMs: 5 }),
      slowGet(`${dpm.url}/npm/other/-/other-1.0.0.tgz`, { pauseMs: 2 }),
      ...ranges.map(([start, end]) => slowGet(url(), { range: `bytes=${start}-${end}` })),
      slowGet(url(), { stopAfter: 2 * MiB }),
      slowGet(url(), { stopAfter: 1 })
    ]
    const [full1, full2, full3, full4, slow, otherSlow, ...rest] = await Promise.all(readers)
    for (const whole of [full1!, full2!, full3!, full4!, slow!]) {
      assert.equal(whole.status, 200)
      assert.equal(whole.complete, true)
      assert.equal(sha256(whole.body), sha256(tarball))
    }
    assert.equal(sha256(otherSlow!.body), sha256(other))
    for (const [i, [start, end]] of ranges.entries()) {
      assert.equal(rest[i]!.status, 206)
      assert.equal(sha256(rest[i]!.body), sha256(tarball.subarray(start, end + 1)), `range ${start}-${end}`)
    }
    // the abandoned ones got a true prefix
    for (const cut of rest.slice(ranges.length)) assert.equal(sha256(cut.body), sha256(tarball.subarray(0, cut.body.byteLength)))

    // and the node still serves whole bodies after readers left midway
    const after = await fetch(url())
    assert.equal(after.headers.get('x-cache'), 'HIT')
    assert.equal(sha256(new Uint8Array(await after.arrayBuffer())), sha256(tarball))
  })

  it('logs what it wrote: status and X-Cache of hits sent straight to the socket', async () => {
    const before = dpm.logs.length
    await (await fetch(url())).arrayBuffer()
    await (await fetch(url(), { headers: { range: 'bytes=0-9' } })).arrayBuffer()
    await sleep(50)
    const lines = dpm.logs.slice(before).filter((l) => l.msg === 'request' && l.path === '/npm/big/-/big-1.0.0.tgz')
    assert.deepEqual(lines.map((l) => [l.status, l.cache]), [[200, 'HIT'], [206, 'HIT']])
  })

  it('gives every request an id, in its response and its log line; a sane id the client sent is kept', async () => {
    const before = dpm.logs.length
    const hit = await fetch(url())
    await hit.arrayBuffer()
    const mine = await fetch(`${dpm.url}/npm/big`, { headers: { 'x-request-id': 'build-42-step-7' } })
    await mine.arrayBuffer()
    const hostile = await fetch(`${dpm.url}/npm/big`, { headers: { 'x-request-id': 'a b"<script>' } })
    await hostile.arrayBuffer()
    await sleep(50)
    const lines = dpm.logs.slice(before).filter((l) => l.msg === 'request')
    const hitId = hit.headers.get('x-request-id')
    assert.match(hitId ?? '', /^[0-9a-f-]{36}$/, 'a hit written straight to the socket carries one too')
    assert.equal(mine.headers.get('x-request-id'), 'build-42-step-7')
    assert.match(hostile.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'an id with odd characters is replaced')
    assert.deepEqual(lines.map((l) => l.id), [hitId, 'build-42-step-7', hostile.headers.get('x-request-id')])
  })

  it('cuts the connection when a block is missing midway: a short body, never a complete-looking one', async () => {
    await rm(await leafFile(tarball, 6))
    const [broken, whole] = await Promise.all([slowGet(url()), slowGet(`${dpm.url}/npm/other/-/other-1.0.0.tgz`)])
    assert.equal(broken.status, 200)
    assert.equal(broken.complete, false, 'the artifact that lost a block is cut short')
    assert.ok(broken.body.byteLength < 12 * MiB, 'the body stops before its end')
    assert.equal(sha256(broken.body), sha256(tarball.subarray(0, broken.body.byteLength)), 'what came is a true prefix')
    assert.equal(whole.complete, true)
    assert.equal(sha256(whole.body), sha256(other))
  })

  it('answers an error, not a silent hang-up, when the first block is missing', async () => {
    await rm(await leafFile(other, 0))
    const res = await slowGet(`${dpm.url}/npm/other/-/other-1.0.0.tgz`)
    assert.equal(res.status, 500)
    assert.match(res.body.toString(), /"error"/)
  })

  /** The block file of an artifact's leaf number `n` in the node's blockstore. */
  async function leafFile (artifact: Uint8Array, n: number): Promise<string> {
    const cid = CID.createV1(raw.code, await sha256Hasher.digest(artifact.subarray(n * MiB, (n + 1) * MiB)))
    const { dir, file } = new NextToLast().encode(cid)
    const path = join(dpm.dataDir, 'blocks', dir, file)
    await stat(path) // there, before the test takes it away
    return path
  }
})
