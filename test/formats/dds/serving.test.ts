import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { makeSdist, packageDir } from '../../helpers/dds-packages.ts'
import { runDpm } from '../../helpers/run-dpm.ts'
import { spawnNode, type SpawnedNode } from '../../helpers/spawn-node.ts'
import { startStaticFiles, type StaticFiles } from '../../helpers/static-files.ts'
import { generateSwarmKey } from '../../helpers/swarm-key.ts'
import { startTestNode, type TestNode } from '../../helpers/test-node.ts'
import { health, waitFor } from '../../helpers/wait-for.ts'
import { tempDir } from '../../helpers/temp-dir.ts'

const repoman = async (...args: string[]): Promise<void> => {
  const run = await runDpm(['repoman', ...args])
  assert.equal(run.code, 0, run.stderr)
}

/** A package with a few hundred KiB of sources: several blocks in the store. */
async function bigSdist (name: string, version: string): Promise<string> {
  const dir = await packageDir({ name, version })
  await writeFile(join(dir, 'src', name, 'data.bin'), randomBytes(700 * 1024))
  const out = join(await tempDir('sdist-'), `${name}.tar.gz`)
  execFileSync('tar', ['-czf', out, '-C', dir, '.'])
  return out
}

async function get (url: string): Promise<{ status: number, cache: string | null, type: string | null, bytes: Buffer }> {
  const response = await fetch(url)
  return { status: response.status, cache: response.headers.get('x-cache'), type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) }
}

/** A repository built with `dpm repoman`, served by a plain static HTTP server, fetched through nodes. */
describe('dds repositories through the node and the swarm', () => {
  let work: string
  let repo: string
  let files: StaticFiles
  const nodes: SpawnedNode[] = []
  const key = generateSwarmKey()
  let a: SpawnedNode
  const sdist = (name: string, version: string): string => `/pkg/${name}/${version}/sdist.tar.gz`

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'dpm-dds-'))
    repo = join(work, 'repo')
    await repoman('init', repo, '--name', 'acme')
    await repoman('import', repo, await bigSdist('acme-big', '1.0.0'), await makeSdist({ name: 'acme-small', version: '0.1.0', depends: ['acme-big^1.0.0'] }), await makeSdist({ name: 'acme-tampered', version: '1.0.0' }))
    // the repository is served from a copy, so the tests can change what the server has
    await cp(repo, join(work, 'served', 'acme'), { recursive: true })
    // as dds's own repoman leaves it: no digests
    await cp(repo, join(work, 'served', 'plain'), { recursive: true })
    execFileSync('sqlite3', [join(work, 'served', 'plain', 'repo.db'), 'DROP TABLE dpm_package_digests; VACUUM'])
    await writeFile(join(work, 'served', 'plain', 'repo.db.gz'), gzipSync(await readFile(join(work, 'served', 'plain', 'repo.db'))))
    await writeFile(join(work, 'served', 'acme', sdist('acme-tampered', '1.0.0')), randomBytes(2000))
    files = await startStaticFiles(join(work, 'served'))
    a = await spawnNode({ dataDir: await mkdtemp(join(work, 'node-')), env: { DPM_SWARM_KEY: key, DPM_DDS_UPSTREAMS: `acme=${files.url}acme/,plain=${files.url}plain` } })
    nodes.push(a)
  })
  after(async () => {
    for (const node of nodes) await node.stop()
    await files.close()
    await rm(work, { recursive: true, force: true })
  })

  it('serves repo.db.gz as the repository has it: MISS, then HIT', async () => {
    const first = await get(`${a.url}/dds/acme/repo.db.gz`)
    assert.equal(first.status, 200)
    assert.equal(first.cache, 'MISS')
    assert.deepEqual(first.bytes, await readFile(join(repo, 'repo.db.gz')))
    const second = await get(`${a.url}/dds/acme/repo.db.gz`)
    assert.equal(second.cache, 'HIT')
    assert.deepEqual(second.bytes, first.bytes)
  })

  it('serves sdists byte for byte, verified against the sha256 repoman recorded: MISS, then HIT', async () => {
    for (const [name, version] of [['acme-big', '1.0.0'], ['acme-small', '0.1.0']]) {
      const want = await readFile(join(repo, sdist(name!, version!)))
      const first = await get(`${a.url}/dds/acme${sdist(name!, version!)}`)
      assert.equal(first.status, 200, first.bytes.toString())
      assert.equal(first.cache, 'MISS')
      assert.deepEqual(first.bytes, want)
      const second = await get(`${a.url}/dds/acme${sdist(name!, version!)}`)
      assert.equal(second.cache, 'HIT')
      assert.deepEqual(second.bytes, want)
    }
  })

  it('refuses bytes that do not match, and an sdist the repository publishes no digest for, in JSON', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const tampered = await get(`${a.url}/dds/acme${sdist('acme-tampered', '1.0.0')}`)
      assert.equal(tampered.status, 502)
      assert.equal(tampered.type, 'application/json')
    }
    const plain = await get(`${a.url}/dds/plain${sdist('acme-small', '0.1.0')}`)
    assert.equal(plain.status, 502)
    assert.match(JSON.parse(plain.bytes.toString()).error, /publishes no sha256 for acme-small@0\.1\.0/)
    assert.equal((await get(`${a.url}/dds/plain/repo.db.gz`)).status, 200, 'its repo.db.gz is served all the same')
  })

  it('answers unknown repositories and packages with a 404, hostile paths with a 400, in JSON, asking nobody', async () => {
    const asked = files.requests.length
    const unknown = await get(`${a.url}/dds/nobody/repo.db.gz`)
    assert.equal(unknown.status, 404)
    assert.match(JSON.parse(unknown.bytes.toString()).error, /no dds repository "nobody"/)
    for (const path of ['/acme/pkg/..%2f..%2fetc/1.0.0/sdist.tar.gz', '/acme/pkg/acme-big/..%2f1.0.0/sdist.tar.gz', '/acme/pkg/acme%2fbig/1.0.0/sdist.tar.gz', '/..%2facme/repo.db.gz', '/acme/%2e%2e/repo.db.gz', `/acme/pkg/${'a'.repeat(300)}/1.0.0/sdist.tar.gz`, '/Acme/repo.db.gz', '/acme/pkg/acme-big/1.0/sdist.tar.gz']) {
      const response = await get(`${a.url}/dds${path}`)
      assert.equal(response.status, 400, path)
      assert.equal(response.type, 'application/json', path)
    }
    assert.equal(files.requests.length, asked, 'nothing reached the repository')
    const unlisted = await get(`${a.url}/dds/acme${sdist('acme-none', '1.0.0')}`)
    assert.equal(unlisted.status, 404)
  })

  it('with the repository down: HIT from the store; a second node gets both from the swarm (PEER)', async () => {
    files.up = false
    assert.equal((await get(`${a.url}/dds/acme/repo.db.gz`)).cache, 'HIT')
    assert.equal((await get(`${a.url}/dds/acme${sdist('acme-big', '1.0.0')}`)).cache, 'HIT')

    const aId = (await health(a.url)).peerId
    const b = await spawnNode({ dataDir: await mkdtemp(join(work, 'node-')), env: { DPM_SWARM_KEY: key, DPM_DDS_UPSTREAMS: `acme=${files.url}acme/`, DPM_BOOTSTRAP: (await health(a.url)).multiaddrs[0]! } })
    nodes.push(b)
    await waitFor('B to pull A\'s index', () => b.logs.some((l) => l.msg === 'pulled a peer\'s index' && l.peer === aId && Number(l.records) > 0))
    const db = await get(`${b.url}/dds/acme/repo.db.gz`)
    assert.equal(db.status, 200, db.bytes.toString())
    assert.equal(db.cache, 'PEER')
    assert.deepEqual(db.bytes, await readFile(join(repo, 'repo.db.gz')))
    const big = await get(`${b.url}/dds/acme${sdist('acme-big', '1.0.0')}`)
    assert.equal(big.cache, 'PEER')
    assert.deepEqual(big.bytes, await readFile(join(repo, sdist('acme-big', '1.0.0'))))
    assert.equal((await get(`${b.url}/dds/acme${sdist('acme-big', '1.0.0')}`)).cache, 'HIT')
    files.up = true
  })
})

/** Freshness, revalidation and STALE, on an in-process node whose clock the test moves. */
describe('a dds repository that changes, and one that goes down', () => {
  let work: string
  let repo: string
  let files: StaticFiles
  let node: TestNode

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'dpm-dds-fresh-'))
    repo = join(work, 'served', 'acme')
    await repoman('init', repo, '--name', 'acme')
    await repoman('import', repo, await makeSdist({ name: 'acme-one', version: '1.0.0' }))
    files = await startStaticFiles(join(work, 'served'))
    node = await startTestNode({ npmUpstream: 'http://127.0.0.1:1/', settings: { plugin_env: { DPM_DDS_UPSTREAMS: `acme=${files.url}acme/` } } })
  })
  after(async () => {
    await node.destroy()
    await files.close()
    await rm(work, { recursive: true, force: true })
  })

  it('revalidates repo.db.gz after five minutes (304 when unchanged), and serves a new listing when it changed', async () => {
    assert.equal((await get(`${node.url}/dds/acme/repo.db.gz`)).cache, 'MISS')
    node.advance(301_000)
    const unchanged = await get(`${node.url}/dds/acme/repo.db.gz`)
    assert.equal(unchanged.status, 200)
    assert.equal(files.notModified, 1, 'a conditional request, answered 304')
    assert.equal((await get(`${node.url}/dds/acme/pkg/acme-two/1.0.0/sdist.tar.gz`)).status, 404)

    await new Promise((resolve) => setTimeout(resolve, 1100)) // a Last-Modified of its own
    await repoman('import', repo, await makeSdist({ name: 'acme-two', version: '1.0.0' }))
    node.advance(301_000)
    const changed = await get(`${node.url}/dds/acme/repo.db.gz`)
    assert.equal(changed.cache, 'MISS')
    assert.deepEqual(changed.bytes, await readFile(join(repo, 'repo.db.gz')))
    const two = await get(`${node.url}/dds/acme/pkg/acme-two/1.0.0/sdist.tar.gz`)
    assert.equal(two.status, 200)
    assert.deepEqual(two.bytes, await readFile(join(repo, 'pkg', 'acme-two', '1.0.0', 'sdist.tar.gz')))
  })

  it('serves repo.db.gz STALE when the repository is down past its freshness', async () => {
    files.up = false
    node.advance(301_000)
    const stale = await get(`${node.url}/dds/acme/repo.db.gz`)
    assert.equal(stale.status, 200)
    assert.equal(stale.cache, 'STALE')
    assert.deepEqual(stale.bytes, await readFile(join(repo, 'repo.db.gz')))
    assert.equal((await get(`${node.url}/dds/acme/pkg/acme-two/1.0.0/sdist.tar.gz`)).cache, 'HIT', 'a cached sdist needs no repository')
    files.up = true
  })
})
