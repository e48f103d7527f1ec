import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { fakeTarballDigest } from '../helpers/fake-npm-registry.ts'
import { addressOf, pulledIndex, startSwarmHarness, type SwarmHarness } from '../helpers/swarm-harness.ts'

const MiB = 1024 * 1024
const BIG = { size: 1024 * MiB }
/**
 * The most B may hold at any moment of the transfer, startup included. A node
 * that kept part of what it received (as one did, holding each Bitswap message
 * whose sender finished before the handler listened) went to 316–360 MiB over
 * this transfer; one that keeps nothing peaks at 265–275 MiB with four leaves
 * wanted at once (287–301 with eight), an idle node at ~186.
 */
const PEAK_RESIDENT = 300 * MiB

describe('memory while a node pulls a large artifact from a peer', () => {
  let swarm: SwarmHarness
  after(async () => { await swarm?.close() })

  it('stays under 300 MiB on B however large the artifact, here 1 GiB', async () => {
    swarm = await startSwarmHarness()
    swarm.upstream.publish('big', { version: '1.0.0', tarball: BIG })
    const a = await swarm.start()
    for await (const chunk of (await fetch(`${a.url}/npm/big/-/big-1.0.0.tgz`)).body!) void chunk
    const b = await swarm.start({ DPM_NPM_UPSTREAM: swarm.dead.url, DPM_BOOTSTRAP: await addressOf(a) })
    await pulledIndex(b, 2)

    const response = await fetch(`${b.url}/npm/big/-/big-1.0.0.tgz`)
    assert.equal(response.headers.get('x-cache'), 'PEER')
    const hash = createHash('sha512')
    let received = 0
    for await (const chunk of response.body!) {
      hash.update(chunk)
      received += chunk.byteLength
    }
    assert.equal(received, BIG.size)
    assert.equal(hash.digest('base64'), fakeTarballDigest(BIG))
    const peak = await b.peakRss()
    console.log(`B's peak resident memory: ${Math.round(peak / MiB)} MiB`)
    assert.ok(peak < PEAK_RESIDENT, `B peaked at ${Math.round(peak / MiB)} MiB while pulling 1 GiB`)
  })
})
