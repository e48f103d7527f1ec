import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { fakeTarballDigest } from '../helpers/fake-npm-registry.ts'
import type { SpawnedNode } from '../helpers/spawn-node.ts'
import { addressOf, pulledIndex, startSwarmHarness, type SwarmHarness } from '../helpers/swarm-harness.ts'
import { bitswapBytes, bytesBySender } from '../helpers/swarm-metrics.ts'
import { health, waitFor } from '../helpers/wait-for.ts'

const MiB = 1024 * 1024
const ARTIFACT = { size: 64 * MiB }
const LEECHERS = 3

describe('several nodes fetching the same artifact from one seeder at once', () => {
  let swarm: SwarmHarness
  after(async () => { await swarm?.close() })

  it('share the work: the seeder uploads it far fewer times than there are fetchers, and they pass leaves to each other', async () => {
    swarm = await startSwarmHarness()
    swarm.upstream.publish('shared', { version: '1.0.0', tarball: ARTIFACT })
    const seeder = await swarm.start()
    const path = '/npm/shared/-/shared-1.0.0.tgz'
    for await (const chunk of (await fetch(`${seeder.url}${path}`)).body!) void chunk
    // every leecher knows the seeder and the leechers before it: a full mesh
    const addresses = [await addressOf(seeder)]
    const leechers: SpawnedNode[] = []
    for (let i = 0; i < LEECHERS; i++) {
      const leecher = await swarm.start({ DPM_NPM_UPSTREAM: swarm.dead.url, DPM_BOOTSTRAP: addresses.join(',') })
      addresses.push(await addressOf(leecher))
      leechers.push(leecher)
    }
    for (const leecher of leechers) await pulledIndex(leecher, 2)
    await waitFor('a full mesh', async () => (await Promise.all(leechers.map(async (l) => (await health(l.url)).peers))).every((n) => n === LEECHERS))

    const before = (await bitswapBytes(seeder)).sent
    const bodies = await Promise.all(leechers.map(async (leecher) => {
      const response = await fetch(`${leecher.url}${path}`)
      const hash = createHash('sha512')
      for await (const chunk of response.body!) hash.update(chunk)
      return { cache: response.headers.get('x-cache'), digest: hash.digest('base64') }
    }))
    for (const body of bodies) assert.deepEqual(body, { cache: 'PEER', digest: fakeTarballDigest(ARTIFACT) })

    const uploaded = (await bitswapBytes(seeder)).sent - before
    const seederId = (await health(seeder.url)).peerId
    const fromFellows = await Promise.all(leechers.map(async (l) => [...await bytesBySender(l)].filter(([peer]) => peer !== seederId).reduce((n, [, bytes]) => n + bytes, 0)))
    console.log(`seeder uploaded ${(uploaded / ARTIFACT.size).toFixed(2)}× the artifact for ${LEECHERS} fetchers; first copies from fellow fetchers: ${fromFellows.map((b) => `${Math.round(b / MiB)} MiB`).join(', ')}`)
    // each fetcher asking the seeder for every leaf made it upload the artifact once per fetcher
    assert.ok(uploaded < 2 * ARTIFACT.size, `the seeder uploaded ${(uploaded / ARTIFACT.size).toFixed(2)}× the artifact`)
    for (const [i, bytes] of fromFellows.entries()) assert.ok(bytes > 0, `leecher ${i + 1} got no leaf from a fellow fetcher`)
  })
})
