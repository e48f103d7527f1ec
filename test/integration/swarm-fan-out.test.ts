import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fakeTarballDigest, startFakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { spawnNode, type SpawnedNode } from '../helpers/spawn-node.ts'
import { generateSwarmKey } from '../helpers/swarm-key.ts'
import { bitswapBytes, bytesBySender } from '../helpers/swarm-metrics.ts'
import { health, waitFor } from '../helpers/wait-for.ts'

const MiB = 1024 * 1024
const ARTIFACT = { size: 64 * MiB }
const LEECHERS = 3

describe('several nodes fetching the same artifact from one seeder at once', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('share the work: the seeder uploads it far fewer times than there are fetchers, and they pass leaves to each other', async () => {
    const key = generateSwarmKey()
    const upstream = await startFakeNpmRegistry()
    const dead = await startFakeNpmRegistry()
    dead.mode = 'down'
    cleanup.push(() => upstream.close(), () => dead.close())
    upstream.publish('shared', { version: '1.0.0', tarball: ARTIFACT })
    const start = async (env: Record<string, string>): Promise<SpawnedNode> => {
      const dir = await mkdtemp(join(tmpdir(), 'dpm-fan-out-'))
      cleanup.push(() => rm(dir, { recursive: true, force: true }))
      const node = await spawnNode({ dataDir: dir, env: { DPM_SWARM_KEY: key, ...env } })
      cleanup.push(() => node.stop())
      return node
    }

    const seeder = await start({ DPM_NPM_UPSTREAM: upstream.url })
    const path = '/npm/shared/-/shared-1.0.0.tgz'
    for await (const chunk of (await fetch(`${seeder.url}${path}`)).body!) void chunk
    // every leecher knows the seeder and the leechers before it: a full mesh
    const addresses = [(await health(seeder.url)).multiaddrs[0]!]
    const leechers: SpawnedNode[] = []
    for (let i = 0; i < LEECHERS; i++) {
      const leecher = await start({ DPM_NPM_UPSTREAM: dead.url, DPM_BOOTSTRAP: addresses.join(',') })
      addresses.push((await health(leecher.url)).multiaddrs[0]!)
      leechers.push(leecher)
    }
    await waitFor('every leecher to learn the seeder\'s record', () => leechers.every((l) => l.logs.some((e) => e.msg === 'pulled a peer\'s index' && Number(e.records) >= 2)))
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
