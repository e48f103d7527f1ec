import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createAptClient, hostDebianMirror, type AptClient } from '../helpers/apt-client.ts'
import { addressOf, pulledIndex } from '../helpers/swarm-harness.ts'
import { spawnNode, type SpawnedNode } from '../helpers/spawn-node.ts'
import { generateSwarmKey } from '../helpers/swarm-key.ts'

/** A dozen small packages of Debian's main archive, one with a `+` in its file name. */
const PACKAGES = ['hello', 'tree', 'jq', 'libjq1', 'libonig5', 'bc', 'less', 'file', 'libmagic1', 'libmagic-mgc', 'zstd', 'libstdc++6']
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
const DEAD = 'http://127.0.0.1:9/debian/'
const mirror = await hostDebianMirror()

const cachesOf = async (node: SpawnedNode, since: number, path: RegExp): Promise<string[]> =>
  (await node.requests(since, path)).map((l) => String(l.cache))

/** The real apt-get, with signature checks, through nodes in front of the Debian mirror this host uses. */
describe('apt-get through a node, against this host\'s Debian mirror', { skip: mirror === undefined && 'this host\'s apt sources name no Debian mirror' }, () => {
  const key = generateSwarmKey()
  const cleanup: Array<() => Promise<unknown>> = []
  let dirA = ''
  let a: SpawnedNode
  const start = async (dataDir: string, upstream: string, env: Record<string, string> = {}): Promise<SpawnedNode> => {
    const node = await spawnNode({ dataDir, env: { DPM_SWARM_KEY: key, DPM_APT_UPSTREAMS: `debian=${upstream}`, ...env } })
    cleanup.push(() => node.stop())
    return node
  }
  const client = async (node: SpawnedNode): Promise<AptClient> => {
    const made = await createAptClient([{ uri: `${node.url}/apt/debian`, suites: mirror!.suite, components: 'main', signedBy: KEYRING }])
    cleanup.push(() => made.remove())
    return made
  }
  /** `apt-get update` and `apt-get download` of every package, both succeeding. */
  const updateAndDownload = async (node: SpawnedNode): Promise<void> => {
    const apt = await client(node)
    const updated = await apt.update()
    assert.ok(updated.ok, updated.stderr)
    const downloaded = await apt.download(PACKAGES)
    assert.ok(downloaded.ok, downloaded.stderr)
    assert.equal(downloaded.files.length, PACKAGES.length, downloaded.files.join(', '))
  }

  before(async () => {
    dirA = await mkdtemp(join(tmpdir(), 'dpm-apt-a-'))
    cleanup.push(() => rm(dirA, { recursive: true, force: true }))
    a = await start(dirA, mirror!.uri)
  })
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('updates and downloads a dozen packages, each verified against the Packages index it came from', async () => {
    await updateAndDownload(a)
    assert.deepEqual([...new Set(await cachesOf(a, 0, /\/pool\//))], ['MISS'])
    assert.ok(a.logs.some((l) => l.msg === 'read a listing' && Number(l.entries) > 10_000), 'the main Packages index was read')
  })

  it('serves the same from its cache to a client with fresh apt state: all HIT', async () => {
    const mark = (await a.settled()).length
    await updateAndDownload(a)
    const caches = await cachesOf(a, mark, /^\/apt\//)
    assert.ok(caches.length > PACKAGES.length)
    assert.deepEqual([...new Set(caches)], ['HIT'])
  })

  it('updates and downloads with the upstream unreachable: from its cache, and on a second node from the swarm', async () => {
    await a.stop()
    a = await start(dirA, DEAD)
    const mark = (await a.settled()).length
    await updateAndDownload(a)
    assert.ok((await cachesOf(a, mark, /InRelease$/)).every((c) => c === 'HIT' || c === 'STALE'))
    assert.deepEqual([...new Set(await cachesOf(a, mark, /\/pool\//))], ['HIT'])

    const dirB = await mkdtemp(join(tmpdir(), 'dpm-apt-b-'))
    cleanup.push(() => rm(dirB, { recursive: true, force: true }))
    const b = await start(dirB, DEAD, { DPM_BOOTSTRAP: await addressOf(a) })
    await pulledIndex(b, PACKAGES.length)
    await updateAndDownload(b)
    assert.deepEqual([...new Set(await cachesOf(b, 0, /^\/apt\//))], ['PEER'])
  })
})
