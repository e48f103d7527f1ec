import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { fakeTarballDigest, startFakeNpmRegistry, type FakeNpmRegistry } from '../../helpers/fake-npm-registry.ts'
import { countBlocks, listIndex } from '../../helpers/inspect-store.ts'
import { startTestNode, type TestNode } from '../../helpers/test-node.ts'

const sha512 = (bytes: Uint8Array): string => createHash('sha512').update(bytes).digest('base64')

describe('npm pull-through against a fake upstream', () => {
  let upstream: FakeNpmRegistry
  let dpm: TestNode
  const cold = randomBytes(300_000)

  before(async () => {
    upstream = await startFakeNpmRegistry()
    upstream.publish('cold', { version: '1.0.0', tarball: cold })
    upstream.publish('bad', { version: '1.0.0', tarball: randomBytes(1000), wrongIntegrity: true })
    upstream.publish('cut', { version: '1.0.0', tarball: randomBytes(200_000), truncate: true })
    upstream.publish('offline', { version: '2.0.0', tarball: randomBytes(5000) })
    upstream.publish('@scope/pkg', { version: '0.1.0', tarball: randomBytes(100) })
    dpm = await startTestNode({ npmUpstream: upstream.url })
  })
  after(async () => {
    await dpm.destroy()
    await upstream.close()
  })

  it('answers 50 concurrent requests for a cold tarball with one upstream fetch and 50 identical bodies', async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, () => fetch(`${dpm.url}/npm/cold/-/cold-1.0.0.tgz`)))
    const bodies = await Promise.all(responses.map(async (r) => new Uint8Array(await r.arrayBuffer())))
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]))
    assert.equal(responses[0]!.headers.get('x-cache'), 'MISS')
    for (const r of responses) assert.match(r.headers.get('x-cache') ?? '', /^(MISS|HIT)$/)
    assert.deepEqual(new Set(bodies.map(sha512)), new Set([sha512(cold)]))
    assert.equal(upstream.count('/cold/-/cold-1.0.0.tgz'), 1)
    assert.equal(upstream.count('/cold'), 1)

    const again = await fetch(`${dpm.url}/npm/cold/-/cold-1.0.0.tgz`)
    assert.equal(again.headers.get('x-cache'), 'HIT')
    assert.equal(sha512(new Uint8Array(await again.arrayBuffer())), sha512(cold))
    assert.equal(upstream.count('/cold/-/cold-1.0.0.tgz'), 1)
  })

  it('keeps what a client was served cold when the node is stopped right after: the record follows the last byte, and a stop waits for it', async () => {
    const tarball = { size: 64 * 1024 * 1024 }
    upstream.publish('stopped', { version: '1.0.0', tarball })
    const first = await startTestNode({ npmUpstream: upstream.url })
    const response = await fetch(`${first.url}/npm/stopped/-/stopped-1.0.0.tgz`)
    assert.equal(response.headers.get('x-cache'), 'MISS')
    assert.equal(sha512(new Uint8Array(await response.arrayBuffer())), fakeTarballDigest(tarball))
    await first.stop()
    const second = await startTestNode({ npmUpstream: upstream.url, dataDir: first.dataDir })
    try {
      const again = await fetch(`${second.url}/npm/stopped/-/stopped-1.0.0.tgz`)
      assert.equal(again.headers.get('x-cache'), 'HIT')
      assert.equal(sha512(new Uint8Array(await again.arrayBuffer())), fakeTarballDigest(tarball))
      assert.equal(upstream.count('/stopped/-/stopped-1.0.0.tgz'), 1)
    } finally {
      await second.destroy()
    }
  })

  it('refuses a tarball that does not match its integrity with a 502 and stores nothing', async () => {
    const blocksBefore = await countBlocks(dpm.dataDir)
    const response = await fetch(`${dpm.url}/npm/bad/-/bad-1.0.0.tgz`)
    assert.equal(response.status, 502)
    assert.match((await response.json() as { error: string }).error, /sha512/)
    assert.equal(upstream.count('/bad/-/bad-1.0.0.tgz'), 1)
    await dpm.node.storing(10_000) // the packument's record follows its answer
    const keys = (await listIndex(dpm)).map((r) => r.key)
    assert.ok(!keys.includes('npm:tarball:bad/-/bad-1.0.0.tgz'))
    // the packument was stored (one new block); the tarball's blocks were removed again
    assert.equal(await countBlocks(dpm.dataDir), blocksBefore + 1)

    const retry = await fetch(`${dpm.url}/npm/bad/-/bad-1.0.0.tgz`)
    assert.equal(retry.status, 502)
    assert.equal(upstream.count('/bad/-/bad-1.0.0.tgz'), 2, 'a failed fill is not cached')
  })

  it('never presents a body cut short by the upstream as complete, and keeps nothing of it', async () => {
    await (await fetch(`${dpm.url}/npm/cut`)).arrayBuffer()
    await dpm.node.storing(10_000)
    const blocksBefore = await countBlocks(dpm.dataDir)
    const started = performance.now()
    const response = await fetch(`${dpm.url}/npm/cut/-/cut-1.0.0.tgz`, { signal: AbortSignal.timeout(20_000) })
    if (response.status === 200) {
      await assert.rejects(response.arrayBuffer(), 'the body must end in an error, not a clean end')
    } else {
      assert.equal(response.status, 502)
      assert.equal(response.headers.get('content-type'), 'application/json')
      assert.equal(typeof ((await response.json()) as { error?: unknown }).error, 'string')
    }
    assert.ok(performance.now() - started < 15_000, 'no hung request')
    const keys = (await listIndex(dpm)).map((r) => r.key)
    assert.ok(!keys.includes('npm:tarball:cut/-/cut-1.0.0.tgz'))
    await dpm.node.storing(10_000)
    assert.equal(await countBlocks(dpm.dataDir), blocksBefore, 'no blocks left behind')
  })

  it('serves STALE packuments and HIT tarballs while the upstream is down', async () => {
    const tarballUrl = `${dpm.url}/npm/offline/-/offline-2.0.0.tgz`
    assert.equal((await fetch(`${dpm.url}/npm/offline`)).headers.get('x-cache'), 'MISS')
    const first = await fetch(tarballUrl)
    const bytes = new Uint8Array(await first.arrayBuffer())
    assert.equal(first.headers.get('x-cache'), 'MISS')

    upstream.mode = 'down'
    try {
      dpm.advance(301_000)
      const packument = await fetch(`${dpm.url}/npm/offline`)
      assert.equal(packument.status, 200)
      assert.equal(packument.headers.get('x-cache'), 'STALE')
      const doc = await packument.json() as { versions: Record<string, { dist: { tarball: string } }> }
      assert.equal(doc.versions['2.0.0']!.dist.tarball, tarballUrl)

      const tarball = await fetch(tarballUrl)
      assert.equal(tarball.headers.get('x-cache'), 'HIT')
      assert.equal(sha512(new Uint8Array(await tarball.arrayBuffer())), sha512(bytes))

      const unknown = await fetch(`${dpm.url}/npm/never-fetched`)
      assert.equal(unknown.status, 502)
      assert.ok((await unknown.json() as { error: string }).error.includes('unreachable'))
    } finally {
      upstream.mode = 'up'
    }
  })

  it('revalidates a stale packument with a conditional request', async () => {
    await fetch(`${dpm.url}/npm/cold`)
    const before = upstream.count('/cold')
    dpm.advance(301_000)
    const response = await fetch(`${dpm.url}/npm/cold`)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('x-cache'), 'HIT')
    assert.equal(upstream.count('/cold'), before + 1)
    const fresh = await fetch(`${dpm.url}/npm/cold`)
    assert.equal(fresh.headers.get('x-cache'), 'HIT')
    assert.equal(upstream.count('/cold'), before + 1, 'a revalidated copy is fresh again')
  })

  it('fetches a version published after the cached packument instead of answering 404', async () => {
    await fetch(`${dpm.url}/npm/cold`)
    const added = randomBytes(1234)
    upstream.publish('cold', { version: '1.1.0', tarball: added })
    const response = await fetch(`${dpm.url}/npm/cold/-/cold-1.1.0.tgz`)
    assert.equal(response.status, 200)
    assert.equal(sha512(new Uint8Array(await response.arrayBuffer())), sha512(added))
  })
})
