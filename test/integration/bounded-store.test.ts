import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'
import { verifyStore } from '../helpers/verify-store.ts'

const MiB = 1024 * 1024
const AUTH = { authorization: 'Bearer a-token-long-enough' }
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

interface CollectReport { evicted: Array<{ key: string, size: number }>, usedBytes: number, limitBytes: number, overLimit: boolean, deletedBlocks: number }

/** A node whose store holds 10 MiB, and five 3 MiB packages to fill it with. */
describe('a bounded store (DPM_MAX_STORE)', () => {
  let upstream: FakeNpmRegistry
  let dpm: TestNode
  const tarballs = new Map(['a', 'b', 'c', 'd', 'e'].map((name) => [name, randomBytes(3 * MiB)]))
  const tarballKey = (name: string): string => `npm:tarball:${name}/-/${name}-1.0.0.tgz`
  const path = (name: string): string => `/npm/${name}/-/${name}-1.0.0.tgz`
  const get = async (name: string): Promise<{ cache: string | null, sha: string }> => {
    const res = await fetch(`${dpm.url}${path(name)}`)
    assert.equal(res.status, 200, `GET ${path(name)}`)
    const answer = { cache: res.headers.get('x-cache'), sha: sha256(new Uint8Array(await res.arrayBuffer())) }
    // a miss is recorded once its blocks are written, behind the answer, and stamped with the
    // node's clock then: let it settle before a test moves the clock, or it counts as used later
    if (answer.cache === 'MISS') await dpm.node.storing(10_000)
    return answer
  }
  const api = async (method: string, apiPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, json: any }> => {
    const res = await fetch(`${dpm.url}${apiPath}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
    return { status: res.status, json: await res.json() }
  }
  const gc = async (): Promise<CollectReport> => {
    const { status, json } = await api('POST', '/-/api/gc', undefined, AUTH)
    assert.equal(status, 200)
    return json
  }
  const cachedTarballs = async (): Promise<string[]> => {
    const keys: string[] = []
    for await (const record of dpm.node.index.all()) if (record.key.endsWith('.tgz')) keys.push(record.key)
    return keys.sort()
  }
  const usage = async (): Promise<number> => Number(/^dpm_store_bytes (\d+)$/m.exec(await (await fetch(`${dpm.url}/-/metrics`)).text())?.[1])

  before(async () => {
    upstream = await startFakeNpmRegistry()
    for (const [name, tarball] of tarballs) upstream.publish(name, { version: '1.0.0', tarball })
    dpm = await startTestNode({ npmUpstream: upstream.url, settings: { max_store: 10 * MiB, admin_token: 'a-token-long-enough' } })
  })
  after(async () => {
    await dpm?.destroy()
    await upstream?.close()
  })

  it('evicts the least recently used first, down under its limit, and serves the rest as before', async () => {
    for (const name of ['a', 'b', 'c']) assert.equal((await get(name)).cache, 'MISS')
    dpm.advance(60_000)
    assert.equal((await get('a')).cache, 'HIT') // a is now used more recently than b and c
    dpm.advance(60_000)
    assert.equal((await get('d')).cache, 'MISS') // 12 MiB: over the limit, but nothing is old enough to go yet
    dpm.advance(60_000)

    const report = await gc() // the node may have collected by itself already: what counts is what is left
    assert.deepEqual(await cachedTarballs(), [tarballKey('a'), tarballKey('d')], 'b and c, the least recently used tarballs, went, and no others')
    assert.ok(report.usedBytes <= report.limitBytes, `${report.usedBytes} bytes used of ${report.limitBytes}`)
    assert.equal(report.overLimit, false)
    assert.equal(await usage(), report.usedBytes, 'dpm_store_bytes says what the collection left')

    for (const name of ['a', 'd']) assert.deepEqual(await get(name), { cache: 'HIT', sha: sha256(tarballs.get(name)!) })
    // an evicted package is fetched again like any other miss, and is whole
    assert.deepEqual(await get('b'), { cache: 'MISS', sha: sha256(tarballs.get('b')!) })
  })

  it('never evicts what a user pinned, however long unused', async () => {
    const auth = AUTH
    assert.equal((await api('POST', '/-/api/pins', { path: path('a') }, auth)).status, 200)
    dpm.advance(3_600_000)
    for (const name of ['e', 'c']) await get(name)
    dpm.advance(60_000)
    const report = await gc()
    assert.ok(!report.evicted.some((e) => e.key.includes('a-1.0.0.tgz')), 'the pinned tarball stays')
    assert.ok(report.usedBytes <= report.limitBytes)
    assert.deepEqual(await get('a'), { cache: 'HIT', sha: sha256(tarballs.get('a')!) })
    assert.deepEqual((await api('GET', '/-/api/pins')).json, { pins: [{ key: 'npm:tarball:a/-/a-1.0.0.tgz', keeps: [], missing: [] }] })

    assert.equal((await api('DELETE', '/-/api/pins', { path: path('a') }, auth)).status, 200)
    assert.deepEqual((await api('GET', '/-/api/pins')).json, { pins: [] })
  })

  it('leaves no record whose blocks are gone', async () => {
    await gc()
    const keys = await cachedTarballs()
    await dpm.stop()
    const report = await verifyStore(dpm.dataDir)
    assert.deepEqual(report.bad, [])
    assert.ok(report.artifacts >= 2, `${report.artifacts} artifacts left`)
    assert.ok(keys.length > 0)
    dpm = await startTestNode({ npmUpstream: upstream.url, dataDir: dpm.dataDir, settings: { max_store: 10 * MiB, admin_token: 'a-token-long-enough' } })
  })

  it('refuses bad admin calls with a clear error, and changes nothing', async () => {
    const auth = AUTH
    assert.equal((await api('POST', '/-/api/pins', { path: path('a') })).status, 401, 'no token')
    assert.equal((await api('POST', '/-/api/pins', { path: path('a') }, { authorization: 'Bearer a-token-long-enougH' })).status, 401, 'a wrong token')
    assert.equal((await api('POST', '/-/api/gc', undefined, { authorization: 'Basic x' })).status, 401)
    const cases: Array<[unknown, number, RegExp]> = [
      ['{not json', 400, /JSON body/],
      [{}, 400, /path/],
      [{ path: 42 }, 400, /gateway path/],
      [{ path: 'npm/a' }, 400, /gateway path/],
      [{ path: `/${'x'.repeat(5000)}` }, 400, /too long/],
      [{ path: '/nowhere/a' }, 400, /under no format/],
      [{ path: '/npm/-/ping' }, 400, /nothing stored/],
      [{ path: '/npm/%2e%2e/etc' }, 400, /./],
      [{ path: path('never-fetched') }, 404, /not cached/]
    ]
    for (const [body, status, message] of cases) {
      const res = await api('POST', '/-/api/pins', body, auth)
      assert.equal(res.status, status, `${JSON.stringify(body)?.slice(0, 60)} → ${JSON.stringify(res.json)}`)
      assert.match(res.json.error, message)
    }
    assert.equal((await api('DELETE', '/-/api/pins', { path: path('d') }, auth)).status, 404, 'unpinning what is not pinned')
    assert.deepEqual((await api('GET', '/-/api/pins')).json, { pins: [] })
  })
})

describe('eviction while clients download', () => {
  let upstream: FakeNpmRegistry
  let dpm: TestNode
  const names = Array.from({ length: 10 }, (_, i) => `p${i}`)
  const tarballs = new Map(names.map((name) => [name, randomBytes(4 * MiB + 4321)]))

  before(async () => {
    upstream = await startFakeNpmRegistry()
    for (const [name, tarball] of tarballs) upstream.publish(name, { version: '1.0.0', tarball })
    dpm = await startTestNode({ npmUpstream: upstream.url, settings: { max_store: 16 * MiB } })
  })
  after(async () => {
    await dpm?.destroy()
    await upstream?.close()
  })

  it('gives every client a whole body, ends under its limit, and keeps what is pinned', async () => {
    const pinned = '/npm/p0/-/p0-1.0.0.tgz'
    await (await fetch(`${dpm.url}${pinned}`)).arrayBuffer()
    const pin = await fetch(`${dpm.url}/-/api/pins`, { method: 'POST', body: JSON.stringify({ path: pinned }) }) // loopback: no token needed
    assert.equal(pin.status, 200)

    // 40 MiB of packages through a 16 MiB store: 60 downloads, 6 at a time, some read slowly,
    // while the node's clock moves on so that what was fetched a moment ago may be evicted
    const ages = setInterval(() => dpm.advance(15_000), 200)
    const results: Array<{ name: string, status: number, sha: string }> = []
    const queue = Array.from({ length: 60 }, (_, i) => names[(i * 7) % names.length]!)
    try {
      await Promise.all(Array.from({ length: 6 }, async (_, worker) => {
        for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
          const res = await fetch(`${dpm.url}/npm/${name}/-/${name}-1.0.0.tgz`)
          const hash = createHash('sha256')
          for await (const chunk of res.body!) {
            hash.update(chunk)
            if (worker % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 2))
          }
          results.push({ name, status: res.status, sha: hash.digest('hex') })
        }
      }))
    } finally {
      clearInterval(ages)
    }
    assert.equal(results.length, 60)
    for (const r of results) assert.deepEqual(r, { name: r.name, status: 200, sha: sha256(tarballs.get(r.name)!) })
    const evictions = Number(/^dpm_evictions_total (\d+)$/m.exec(await (await fetch(`${dpm.url}/-/metrics`)).text())?.[1])
    assert.ok(evictions > 0, 'the store evicted while clients downloaded')

    dpm.advance(60_000)
    const report = await (await fetch(`${dpm.url}/-/api/gc`, { method: 'POST' })).json() as CollectReport
    assert.ok(report.usedBytes <= 16 * MiB, `${report.usedBytes} bytes used`)
    const hit = await fetch(`${dpm.url}${pinned}`)
    assert.equal(hit.headers.get('x-cache'), 'HIT', 'the pinned tarball is still in the store')
    assert.equal(sha256(new Uint8Array(await hit.arrayBuffer())), sha256(tarballs.get('p0')!))

    await dpm.stop()
    assert.deepEqual((await verifyStore(dpm.dataDir)).bad, [], 'every record left reads back whole')
  })
})
