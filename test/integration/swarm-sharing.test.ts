import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { createNpmProject, type NpmProject } from '../helpers/npm-client.ts'
import { publishPackageSet } from '../helpers/npm-package-set.ts'
import { spawnNode, type SpawnedNode } from '../helpers/spawn-node.ts'
import { generateSwarmKey } from '../helpers/swarm-key.ts'
import { health, waitFor } from '../helpers/wait-for.ts'

const PACKAGES = 12

const recordsFrom = (node: SpawnedNode, peer: string): number =>
  node.logs.filter((l) => l.msg === 'pulled a peer\'s index' && l.peer === peer).reduce((n, l) => n + Number(l.records), 0)

/** Three nodes, each its own process, on loopback: A fetches, B (no upstream) shares A's cache, C (another key) gets nothing. */
describe('sharing a cache through the private swarm', () => {
  const dirs: string[] = []
  const nodes: SpawnedNode[] = []
  let upstream: FakeNpmRegistry
  let deadUpstream: FakeNpmRegistry
  let project: NpmProject
  let names: string[]
  const key = generateSwarmKey()
  let a: SpawnedNode

  const start = async (env: Record<string, string>, dataDir?: string): Promise<SpawnedNode> => {
    const dir = dataDir ?? await mkdtemp(join(tmpdir(), 'dpm-swarm-'))
    if (dataDir === undefined) dirs.push(dir)
    const node = await spawnNode({ dataDir: dir, env })
    nodes.push(node)
    return node
  }

  before(async () => {
    upstream = await startFakeNpmRegistry()
    deadUpstream = await startFakeNpmRegistry()
    deadUpstream.mode = 'down'
    names = await publishPackageSet(upstream, 'swarm-fixture', PACKAGES)
    project = await createNpmProject({ [names[0]!]: '^1.0.0' })
    a = await start({ DPM_NPM_UPSTREAM: upstream.url, DPM_SWARM_KEY: key })
  })
  after(async () => {
    for (const node of nodes) await node.stop()
    await project.remove()
    await upstream.close()
    await deadUpstream.close()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('A installs through its gateway from the upstream', async () => {
    await project.install(`${a.url}/npm/`)
    const tarballs = (await a.requests()).filter((r) => r.path.endsWith('.tgz'))
    assert.equal(tarballs.length, PACKAGES)
    assert.ok(tarballs.every((r) => r.cache === 'MISS'))
  })

  it('B, whose upstream is down, joins late and installs the same set from the swarm: PEER, then HIT', async () => {
    const expected = await project.tree()
    const aId = (await health(a.url)).peerId
    const b = await start({ DPM_NPM_UPSTREAM: deadUpstream.url, DPM_SWARM_KEY: key, DPM_BOOTSTRAP: (await health(a.url)).multiaddrs[0]! })
    // a late joiner pulls A's whole index (packuments and tarballs) when it connects
    await waitFor('B to pull A\'s index', () => recordsFrom(b, aId) >= 2 * PACKAGES)

    await project.reset()
    await project.install(`${b.url}/npm/`)
    const first = await b.requests()
    assert.equal(first.filter((r) => r.path.endsWith('.tgz')).length, PACKAGES)
    assert.deepEqual(first.filter((r) => r.cache !== 'PEER'), [], 'everything came from the swarm')
    assert.deepEqual(await project.tree(), expected)
    assert.equal(deadUpstream.requests.length > 0, true, 'B did try its upstream for metadata first')
    assert.equal(deadUpstream.requests.filter((p) => p.endsWith('.tgz')).length, 0, 'but never for an artifact a peer had')

    await project.reset()
    await project.install(`${b.url}/npm/`)
    const second = (await b.requests()).slice(first.length)
    assert.equal(second.length, first.length)
    assert.deepEqual(second.filter((r) => r.cache !== 'HIT'), [])
  })

  it('C, with another swarm key, never connects and gets nothing from A or B', async () => {
    const c = await start({ DPM_NPM_UPSTREAM: deadUpstream.url, DPM_SWARM_KEY: generateSwarmKey(), DPM_BOOTSTRAP: (await health(a.url)).multiaddrs[0]! })
    await new Promise((resolve) => setTimeout(resolve, 3000))
    assert.equal((await health(c.url)).peers, 0)
    assert.ok(!c.logs.some((l) => l.msg === 'peer connected'))
    assert.equal((await health(a.url)).peers, 1, 'A is connected to B only')
    const packument = await fetch(`${c.url}/npm/${names[0]}`)
    assert.equal(packument.status, 502)
    const tarball = await fetch(`${c.url}/npm/${names[0]}/-/${names[0]}-1.0.0.tgz`)
    assert.equal(tarball.status, 502)
  })

  it('B reconnects to A after A restarts', async () => {
    const b = nodes[1]!
    const aHealth = await health(a.url)
    const port = /\/tcp\/(\d+)\//.exec(aHealth.multiaddrs[0]!)![1]!
    assert.equal(await a.stop(), 0)
    await waitFor('B to notice A is gone', async () => (await health(b.url)).peers === 0, 15_000)
    a = await start({ DPM_NPM_UPSTREAM: upstream.url, DPM_SWARM_KEY: key, DPM_P2P_LISTEN: `/ip4/127.0.0.1/tcp/${port}` }, dirs[0])
    assert.equal((await health(a.url)).peerId, aHealth.peerId)
    await waitFor('B to redial A', async () => (await health(b.url)).peers === 1, 60_000)
  })
})
