import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { addressOf, pulledIndex, startSwarmHarness, type SwarmHarness } from '../helpers/swarm-harness.ts'
import type { SpawnedNode } from '../helpers/spawn-node.ts'
import { health, waitFor } from '../helpers/wait-for.ts'

const MiB = 1024 * 1024

/** A node that evicts tells the swarm, so its peers stop asking it for what it no longer has. */
describe('eviction announced to the swarm', () => {
  let swarm: SwarmHarness
  let a: SpawnedNode
  let b: SpawnedNode
  const tarball = (name: string): string => `/npm/${name}/-/${name}-1.0.0.tgz`

  before(async () => {
    swarm = await startSwarmHarness()
    for (const name of ['x', 'y']) swarm.upstream.publish(name, { version: '1.0.0', tarball: randomBytes(3 * MiB) })
    a = await swarm.start({ DPM_MAX_STORE: '5MB' })
    for (const name of ['x', 'y']) {
      const response = await fetch(`${a.url}${tarball(name)}`)
      assert.equal(response.headers.get('x-cache'), 'MISS')
      await response.arrayBuffer()
    }
    b = await swarm.start({ DPM_NPM_UPSTREAM: swarm.dead.url, DPM_BOOTSTRAP: await addressOf(a) })
    await pulledIndex(b, 4) // two packuments, two tarballs
  })
  after(async () => {
    await swarm?.close()
  })

  it('withdraws what it evicts; a peer then no longer gets it from there, and still gets the rest', async () => {
    await sleep(11_000) // what was used in the last 10 s is not evicted
    // y, its packument and its tarball, is now used more recently than x
    for (const path of ['/npm/y', tarball('y')]) await (await fetch(`${a.url}${path}`)).arrayBuffer()
    const report = await (await fetch(`${a.url}/-/api/gc`, { method: 'POST' })).json() as { evicted: Array<{ key: string }> }
    assert.ok(report.evicted.some((e) => e.key === 'npm:tarball:x/-/x-1.0.0.tgz'), JSON.stringify(report.evicted))
    assert.ok(!report.evicted.some((e) => e.key === 'npm:tarball:y/-/y-1.0.0.tgz'))

    const aId = (await health(a.url)).peerId
    await waitFor('B to hear that A withdrew x', () => b.logs.some((l) => l.msg === 'a peer withdrew a record' && l.peer === aId && l.key === 'npm:tarball:x/-/x-1.0.0.tgz'))
    const x = await fetch(`${b.url}${tarball('x')}`)
    assert.equal(x.status, 502, 'no peer has x any more, and B\'s upstream is down')
    await x.arrayBuffer()
    const mark = b.logs.length
    const y = await fetch(`${b.url}${tarball('y')}`)
    const body = Buffer.from(await y.arrayBuffer())
    // on failure, what B said about y, so a rare one can be told from the next
    const said = (): string => `${body.subarray(0, 300).toString()} ${JSON.stringify(b.logs.slice(mark).filter((l) => Number(l.level) >= 30 && l.msg !== 'request'))}`
    assert.equal(y.status, 200, said())
    assert.equal(y.headers.get('x-cache'), 'PEER', said())
  })
})
