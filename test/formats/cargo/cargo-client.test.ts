import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startCargoRegistry, type CargoRegistry } from '../../helpers/cargo-registry.ts'
import { createCargoProject } from '../../helpers/cargo-client.ts'
import { spawnNode, type SpawnedNode } from '../../helpers/spawn-node.ts'
import { generateSwarmKey } from '../../helpers/swarm-key.ts'
import { health, waitFor } from '../../helpers/wait-for.ts'

const CRATES = [
  { name: 'dpm-leaf', version: '0.1.0', lib: 'pub fn leaf() -> u32 { 7 }\n' },
  { name: 'dpm-mid', version: '0.2.0', deps: ['dpm-leaf'], lib: 'pub fn mid() -> u32 { dpm_leaf::leaf() * 6 }\n' },
  { name: 'dpm-bad', version: '1.0.0', lib: 'pub fn bad() {}\n' }
]
const MAIN = 'fn main() { println!("{}", dpm_mid::mid()); }\n'

/** `X-Cache` of every response the node logged for these paths. */
const cacheOf = async (node: SpawnedNode, path: RegExp, since: number): Promise<string[]> => (await node.requests(since, path)).map((l) => String(l.cache))
const DOWNLOADS = /\/cargo\/test\/api\/v1\/crates\/dpm-(leaf|mid)\//

/** The real `cargo`, its sparse registry replaced by a node; the upstream a registry built with `cargo package`. */
describe('cargo through a node', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  let upstream: CargoRegistry
  let a: SpawnedNode
  const key = generateSwarmKey()
  const start = async (env: Record<string, string>): Promise<SpawnedNode> => {
    const dir = await mkdtemp(join(tmpdir(), 'dpm-cargo-node-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const node = await spawnNode({ dataDir: dir, env: { DPM_SWARM_KEY: key, DPM_CARGO_UPSTREAMS: `test=sparse+${upstream.url}`, ...env } })
    cleanup.push(() => node.stop())
    return node
  }
  before(async () => {
    upstream = await startCargoRegistry(CRATES)
    cleanup.push(() => upstream.close())
    upstream.corrupt('dpm-bad', '1.0.0')
    a = await start({})
  })
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('fetches and builds a project through the node, then fetches again entirely from the cache', async () => {
    const project = await createCargoProject({ registry: `${a.url}/cargo/test/`, deps: { 'dpm-mid': '0.2' }, main: MAIN })
    cleanup.push(() => rm(project.dir, { recursive: true, force: true }))
    let mark = (await a.settled()).length
    const fetched = await project.run('fetch')
    assert.ok(fetched.ok, fetched.stderr)
    assert.deepEqual((await cacheOf(a, DOWNLOADS, mark)).sort(), ['MISS', 'MISS'])
    const built = await project.run('run', '--offline', '--quiet')
    assert.ok(built.ok, built.stderr)
    assert.equal(built.stdout.trim(), '42')

    mark = (await a.settled()).length
    await project.forget()
    const again = await project.run('fetch')
    assert.ok(again.ok, again.stderr)
    assert.deepEqual(await cacheOf(a, DOWNLOADS, mark), ['HIT', 'HIT'])
  })

  it('refuses a crate whose bytes do not match the index checksum, and stores nothing', async () => {
    const project = await createCargoProject({ registry: `${a.url}/cargo/test/`, deps: { 'dpm-bad': '1' }, main: 'fn main() {}\n' })
    cleanup.push(() => rm(project.dir, { recursive: true, force: true }))
    const fetched = await project.run('fetch')
    assert.equal(fetched.ok, false)
    assert.match(fetched.stderr, /502|dpm-bad/)
    const direct = await fetch(`${a.url}/cargo/test/api/v1/crates/dpm-bad/1.0.0/download`)
    assert.equal(direct.status, 502)
    assert.equal(direct.headers.get('x-cache'), null)
    assert.match((await direct.json() as { errors: Array<{ detail: string }> }).errors[0]!.detail, /digest|sha256|mismatch/i)
  })

  it('with the upstream off, fetches from the cache, and a second node fetches from the swarm', async () => {
    upstream.mode = 'down'
    try {
      const fromCache = await createCargoProject({ registry: `${a.url}/cargo/test/`, deps: { 'dpm-mid': '0.2' }, main: MAIN })
      cleanup.push(() => rm(fromCache.dir, { recursive: true, force: true }))
      let mark = (await a.settled()).length
      const cached = await fromCache.run('fetch')
      assert.ok(cached.ok, cached.stderr)
      assert.deepEqual(await cacheOf(a, DOWNLOADS, mark), ['HIT', 'HIT'])

      const b = await start({ DPM_BOOTSTRAP: (await health(a.url)).multiaddrs[0]! })
      await waitFor('B to learn A\'s records', () => b.logs.some((l) => l.msg === 'pulled a peer\'s index'))
      const fromSwarm = await createCargoProject({ registry: `${b.url}/cargo/test/`, deps: { 'dpm-mid': '0.2' }, main: MAIN })
      cleanup.push(() => rm(fromSwarm.dir, { recursive: true, force: true }))
      mark = (await b.settled()).length
      const swarmed = await fromSwarm.run('run', '--quiet')
      assert.ok(swarmed.ok, swarmed.stderr)
      assert.equal(swarmed.stdout.trim(), '42')
      assert.deepEqual(await cacheOf(b, DOWNLOADS, mark), ['PEER', 'PEER'])
      const documents = await cacheOf(b, /\/cargo\/test\/(config\.json|dp\/m-\/dpm-mid|dp\/m-\/dpm-leaf)$/, mark)
      assert.ok(documents.length >= 3 && documents.every((c) => c === 'PEER'), `config.json and index files from the swarm too: ${documents}`)
    } finally {
      upstream.mode = 'up'
    }
  })
})
