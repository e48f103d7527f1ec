import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { fakeTarballDigest } from '../helpers/fake-npm-registry.ts'
import { addressOf, pulledIndex, startSwarmHarness, type SwarmHarness } from '../helpers/swarm-harness.ts'

const MiB = 1024 * 1024
const BIG = { size: 256 * MiB }

describe('a peer dies in the middle of a transfer', () => {
  let swarm: SwarmHarness
  after(async () => { await swarm?.close() })

  it('B\'s client gets the whole artifact from the upstream, or a clean error, never a wrong body', async () => {
    swarm = await startSwarmHarness()
    swarm.upstream.publish('big', { version: '1.0.0', tarball: BIG })
    const a = await swarm.start()
    for await (const chunk of (await fetch(`${a.url}/npm/big/-/big-1.0.0.tgz`)).body!) void chunk
    const b = await swarm.start({ DPM_BOOTSTRAP: await addressOf(a) })
    await pulledIndex(b, 2)

    const response = await fetch(`${b.url}/npm/big/-/big-1.0.0.tgz`)
    assert.equal(response.headers.get('x-cache'), 'PEER')
    assert.equal(response.headers.get('content-length'), String(BIG.size))
    const hash = createHash('sha512')
    let received = 0
    let outcome: 'complete' | 'aborted' = 'complete'
    try {
      for await (const chunk of response.body!) {
        hash.update(chunk)
        received += chunk.byteLength
        if (received >= 32 * MiB && a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL')
      }
    } catch {
      outcome = 'aborted'
    }
    assert.equal(await a.exited, 'SIGKILL', 'A died mid-transfer')
    if (outcome === 'complete') {
      assert.equal(received, BIG.size)
      assert.equal(hash.digest('base64'), fakeTarballDigest(BIG), 'a body that ends cleanly is the right one')
      assert.ok(b.logs.some((l) => l.msg === 'transfer broke, continuing from the next source'))
    } else {
      assert.ok(received < BIG.size, 'an aborted body is visibly short')
    }
    console.log(`outcome: ${outcome} after ${Math.round(received / MiB)} MiB`)
    if (outcome === 'complete') {
      // what B stored from the two sources (the peer's leaves, then the upstream's bytes) is the artifact
      const stored = await fetch(`${b.url}/npm/big/-/big-1.0.0.tgz`)
      assert.equal(stored.headers.get('x-cache'), 'HIT')
      const again = createHash('sha512')
      for await (const chunk of stored.body!) again.update(chunk)
      assert.equal(again.digest('base64'), fakeTarballDigest(BIG))
    }
  })
})
