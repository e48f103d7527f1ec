import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createAptClient, type AptClient } from '../../helpers/apt-client.ts'
import { startAptRepository, type AptPackage, type AptRepository } from '../../helpers/apt-repository.ts'
import { spawnNode, type SpawnedNode } from '../../helpers/spawn-node.ts'

const PACKAGES: AptPackage[] = [
  { name: 'dpm-hello', version: '1.0' },
  { name: 'dpm-plus', version: '2.0+dfsg-1' },
  { name: 'dpm-bad', version: '1.0' }
]
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** The real apt-get through a node, in front of a repository signed with a key made for the test. */
describe('apt through a node, against a signed repository', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  let repo: AptRepository
  let node: SpawnedNode
  const client = async (options: { proxy?: string, noCache?: boolean } = {}): Promise<AptClient> => {
    const uri = options.proxy === undefined ? `${node.url}/apt/test` : repo.url
    const made = await createAptClient([{ uri, suites: 'stable', components: 'main', signedBy: repo.keyring }], options)
    cleanup.push(() => made.remove())
    return made
  }
  const poolBytes = async (name: string): Promise<Buffer> => {
    const response = await fetch(`${repo.url}${repo.poolPath(name)}`)
    return Buffer.from(await response.arrayBuffer())
  }

  before(async () => {
    repo = await startAptRepository(PACKAGES)
    cleanup.push(() => repo.close())
    const dir = await mkdtemp(join(tmpdir(), 'dpm-apt-node-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    node = await spawnNode({ dataDir: dir, env: { DPM_APT_UPSTREAMS: `test=${repo.url}` } })
    cleanup.push(() => node.stop())
  })
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('updates with the signature checked and downloads byte-exact packages, indexes fetched by hash', async () => {
    const apt = await client()
    const mark = (await node.settled()).length
    const updated = await apt.update()
    assert.ok(updated.ok, updated.stderr)
    const byHash = await node.requests(mark, /\/by-hash\/SHA256\/[0-9a-f]{64}$/)
    assert.ok(byHash.length > 0 && byHash.every((l) => l.status === 200), 'apt fetched the Packages index by its hash')
    const downloaded = await apt.download(['dpm-hello', 'dpm-plus'])
    assert.ok(downloaded.ok, downloaded.stderr)
    // a `+` in a pool file's name goes upstream as %2B and back unchanged
    assert.deepEqual(downloaded.files, ['dpm-hello_1.0_all.deb', 'dpm-plus_2.0+dfsg-1_all.deb'])
    assert.deepEqual(await readFile(join(downloaded.dir, 'dpm-plus_2.0+dfsg-1_all.deb')), await poolBytes('dpm-plus'))
    assert.deepEqual((await node.requests(mark, /\/pool\//)).map((l) => l.cache), ['MISS', 'MISS'])

    const fresh = await client()
    assert.ok((await fresh.update()).ok)
    const again = await fresh.download(['dpm-hello'])
    assert.ok(again.ok, again.stderr)
    assert.deepEqual((await node.requests(mark, /\/pool\//)).map((l) => l.cache), ['MISS', 'MISS', 'HIT'])
  })

  it('refuses a pool file whose bytes do not match its Packages entry: apt never gets them, nothing is kept', async () => {
    const path = repo.poolPath('dpm-bad')
    repo.tampered.set(path, Buffer.from('not the package the index describes'))
    const apt = await client()
    assert.ok((await apt.update()).ok)
    const refused = await apt.download(['dpm-bad'])
    assert.ok(!refused.ok)
    assert.deepEqual(refused.files, [])
    const direct = await fetch(`${node.url}/apt/test/${path}`)
    assert.equal(direct.status, 502)
    assert.match(await direct.text(), /sha256|bytes/)
    repo.tampered.delete(path)
    const fixed = await fetch(`${node.url}/apt/test/${path}`)
    assert.equal(fixed.status, 200)
    assert.equal(fixed.headers.get('x-cache'), 'MISS', 'the refused bytes were not kept')
    assert.deepEqual(Buffer.from(await fixed.arrayBuffer()), await poolBytes('dpm-bad'))
  })

  it('verifies fixed-name and by-hash indexes against InRelease, and a by-hash name against its digest', async () => {
    const packagesGz = await fetch(`${node.url}/apt/test/dists/stable/main/binary-amd64/Packages.gz`)
    assert.equal(packagesGz.status, 200)
    const gz = Buffer.from(await packagesGz.arrayBuffer())
    const inRelease = await (await fetch(`${node.url}/apt/test/dists/stable/InRelease`)).text()
    assert.ok(inRelease.includes(` ${sha256(gz)} `), 'the bytes InRelease lists')
    assert.equal((await fetch(`${node.url}/apt/test/dists/stable/main/binary-amd64/by-hash/SHA256/${sha256(gz)}`)).status, 200)
    assert.equal((await fetch(`${node.url}/apt/test/dists/stable/main/binary-amd64/by-hash/SHA256/${'0'.repeat(64)}`)).status, 404)
    repo.tampered.set('dists/stable/main/binary-amd64/Packages', Buffer.from('Package: forged\n'))
    assert.equal((await fetch(`${node.url}/apt/test/dists/stable/main/binary-amd64/Packages`)).status, 502)
    repo.tampered.clear()
    assert.equal((await fetch(`${node.url}/apt/test/dists/stable/main/binary-amd64/Packages.bz2`)).status, 404, 'not listed in InRelease')
  })

  it('notices a repository that overwrote a pool file under the same name, and serves the new bytes', async () => {
    const before = await poolBytes('dpm-hello')
    await repo.republish([{ name: 'dpm-hello', version: '1.0', data: 'rebuilt' }])
    const after = await poolBytes('dpm-hello')
    assert.notDeepEqual(after, before)
    // the node's InRelease is still fresh: an update that asks caches to revalidate fetches the new one
    const apt = await client({ noCache: true })
    assert.ok((await apt.update()).ok)
    const mark = (await node.settled()).length
    const downloaded = await apt.download(['dpm-hello'])
    assert.ok(downloaded.ok, downloaded.stderr)
    assert.deepEqual(await readFile(join(downloaded.dir, 'dpm-hello_1.0_all.deb')), after)
    assert.deepEqual((await node.requests(mark, /\/pool\//)).map((l) => l.cache), ['MISS'])
    assert.ok(node.logs.some((l) => l.msg === 'republished with other bytes: fetching again'))
  })

  it('works as apt\'s HTTP proxy for the upstreams it mirrors, and for no other host', async () => {
    const apt = await client({ proxy: `${node.url}/` })
    const mark = (await node.settled()).length
    const updated = await apt.update()
    assert.ok(updated.ok, updated.stderr)
    const downloaded = await apt.download(['dpm-plus'])
    assert.ok(downloaded.ok, downloaded.stderr)
    assert.deepEqual((await node.requests(mark, /^\/apt\/test\/pool\//)).map((l) => l.cache), ['HIT'])
    const elsewhere = await createAptClient([{ uri: 'http://127.0.0.1:9/other/', suites: 'stable', components: 'main', signedBy: repo.keyring }], { proxy: `${node.url}/` })
    cleanup.push(() => elsewhere.remove())
    const refused = await elsewhere.update()
    assert.ok(!refused.ok)
    assert.match(refused.stderr, /403/)
  })

  it('answers bad paths with a 4xx and asks the upstream nothing', async () => {
    const asked = repo.requests.length
    for (const path of ['/pool/..%2f..%2fetc/passwd', '/dists/stable/main/by-hash/MD5Sum/abc', '/dists/stable/main/binary-amd64/by-hash/SHA256/XYZ', '/dists/%00/InRelease', '/elsewhere/x']) {
      const response = await fetch(`${node.url}/apt/test${path}`)
      assert.ok(response.status >= 400 && response.status < 500, `${path}: ${response.status}`)
    }
    assert.equal(repo.requests.length, asked)
  })

  it('answers a by-hash algorithm named like an Object property (constructor, __proto__) with its 400, not a 500', async () => {
    const asked = repo.requests.length
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const response = await fetch(`${node.url}/apt/test/dists/stable/main/binary-amd64/by-hash/${name}/${'0'.repeat(64)}`)
      assert.equal(response.status, 400, name)
      assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8')
      assert.equal(await response.text(), 'invalid by-hash path: SHA256 or SHA512 and a lower-case hex digest\n')
    }
    assert.equal(repo.requests.length, asked)
  })

  it('serves update and download from its cache with the upstream down', async () => {
    repo.up = false
    const apt = await client()
    const mark = (await node.settled()).length
    const updated = await apt.update()
    assert.ok(updated.ok, updated.stderr)
    assert.ok((await node.requests(mark, /InRelease$/)).every((l) => l.cache === 'STALE' || l.cache === 'HIT'))
    const downloaded = await apt.download(['dpm-hello', 'dpm-plus', 'dpm-bad'])
    assert.ok(downloaded.ok, downloaded.stderr)
    assert.deepEqual([...new Set((await node.requests(mark, /\/pool\//)).map((l) => l.cache))], ['HIT'])
    repo.up = true
  })
})
