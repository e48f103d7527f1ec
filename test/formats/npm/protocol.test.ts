import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../../helpers/fake-npm-registry.ts'
import { countBlocks, listIndex } from '../../helpers/inspect-store.ts'
import { NPM_ACCEPT } from '../../helpers/npm-client.ts'
import { rawRequest } from '../../helpers/raw-request.ts'
import { startTestNode, type TestNode } from '../../helpers/test-node.ts'

describe('npm registry protocol through a node', () => {
  let upstream: FakeNpmRegistry
  let dpm: TestNode
  const scoped = randomBytes(4096)

  before(async () => {
    upstream = await startFakeNpmRegistry()
    upstream.publish('@scope/pkg', { version: '0.1.0', tarball: randomBytes(100) })
    upstream.publish('@scope/pkg', { version: '0.2.0', tarball: scoped })
    upstream.publish('plain', { version: '1.0.0', tarball: randomBytes(3000) })
    dpm = await startTestNode({ npmUpstream: upstream.url, settings: { public_url: 'https://mirror.example.test/' } })
  })
  after(async () => {
    await dpm.destroy()
    await upstream.close()
  })

  it('answers npm ping', async () => {
    const response = await fetch(`${dpm.url}/npm/-/ping`)
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), {})
  })

  it('serves a scoped packument under every encoding npm sends, from one upstream fetch', async () => {
    const docs: Array<{ name: string }> = []
    for (const path of ['/npm/@scope%2fpkg', '/npm/@scope/pkg', '/npm/%40scope%2fpkg', '/npm/@scope%2Fpkg']) {
      const response = await rawRequest(dpm.url, path)
      assert.equal(response.status, 200, path)
      docs.push(JSON.parse(response.body))
    }
    assert.ok(docs.every((d) => JSON.stringify(d) === JSON.stringify(docs[0])))
    assert.equal(docs[0]?.name, '@scope/pkg')
    assert.equal(upstream.count('/@scope%2fpkg'), 1)
  })

  it('rewrites tarball links to the public URL and keeps integrity', async () => {
    const doc = await (await fetch(`${dpm.url}/npm/@scope/pkg`)).json() as { versions: Record<string, { dist: { tarball: string, integrity: string } }> }
    assert.equal(doc.versions['0.2.0']!.dist.tarball, 'https://mirror.example.test/npm/@scope/pkg/-/pkg-0.2.0.tgz')
    assert.match(doc.versions['0.2.0']!.dist.integrity, /^sha512-/)
  })

  it('builds the abbreviated packument for install-v1 Accept, with Vary: Accept', async () => {
    const response = await fetch(`${dpm.url}/npm/plain`, { headers: { accept: NPM_ACCEPT } })
    assert.equal(response.headers.get('content-type'), 'application/vnd.npm.install-v1+json')
    assert.equal(response.headers.get('vary'), 'Accept')
    const doc = await response.json() as Record<string, any>
    assert.deepEqual(Object.keys(doc).sort(), ['dist-tags', 'modified', 'name', 'versions'].filter((k) => k !== 'modified' || doc.modified !== undefined).sort())
    assert.equal(doc.readme, undefined)
    assert.equal(doc.versions['1.0.0'].description, undefined)
    assert.equal(doc.versions['1.0.0'].hasInstallScript, true)
    assert.match(doc.versions['1.0.0'].dist.tarball, /^https:\/\/mirror\.example\.test\/npm\/plain\/-\/plain-1\.0\.0\.tgz$/)

    const full = await fetch(`${dpm.url}/npm/plain`)
    assert.equal(full.headers.get('content-type'), 'application/json')
    assert.equal((await full.json() as Record<string, unknown>).readme, 'A long readme that the abbreviated packument leaves out.')
    assert.equal(upstream.count('/plain'), 1, 'both variants come from one stored document')
  })

  it('serves one version by number or dist-tag, and 404s an unknown one', async () => {
    const byNumber = await (await fetch(`${dpm.url}/npm/@scope/pkg/0.1.0`)).json() as { version: string }
    assert.equal(byNumber.version, '0.1.0')
    const byTag = await (await fetch(`${dpm.url}/npm/@scope%2fpkg/latest`)).json() as { version: string }
    assert.equal(byTag.version, '0.2.0')
    const missing = await fetch(`${dpm.url}/npm/plain/9.9.9`)
    assert.equal(missing.status, 404)
    assert.deepEqual(await missing.json(), { error: 'version not found: 9.9.9' })
    // names an object has of its own are not versions or tags
    for (const name of ['constructor', '__proto__', 'toString']) {
      const response = await fetch(`${dpm.url}/npm/plain/${name}`)
      assert.equal(response.status, 404, name)
      assert.deepEqual(await response.json(), { error: `version not found: ${name}` })
      assert.equal((await fetch(`${dpm.url}/npm/plain/-/plain-${name}.tgz`)).status, 404, name)
    }
  })

  it('answers an unknown package with a 404 in npm\'s JSON shape', async () => {
    const response = await fetch(`${dpm.url}/npm/no-such-package`)
    assert.equal(response.status, 404)
    assert.equal(response.headers.get('content-type'), 'application/json')
    assert.deepEqual(await response.json(), { error: 'Not found' })
    const tarball = await fetch(`${dpm.url}/npm/plain/-/plain-7.0.0.tgz`)
    assert.equal(tarball.status, 404)
  })

  it('serves Range requests on tarballs, cold and cached', async () => {
    const cold = await fetch(`${dpm.url}/npm/@scope/pkg/-/pkg-0.2.0.tgz`, { headers: { range: 'bytes=100-199' } })
    assert.equal(cold.status, 206)
    assert.equal(cold.headers.get('content-range'), `bytes 100-199/${scoped.byteLength}`)
    assert.deepEqual(new Uint8Array(await cold.arrayBuffer()), new Uint8Array(scoped.subarray(100, 200)))
    const cached = await fetch(`${dpm.url}/npm/@scope/pkg/-/pkg-0.2.0.tgz`, { headers: { range: 'bytes=-10' } })
    assert.equal(cached.status, 206)
    assert.equal(cached.headers.get('x-cache'), 'HIT')
    assert.deepEqual(new Uint8Array(await cached.arrayBuffer()), new Uint8Array(scoped.subarray(-10)))
    const unsatisfiable = await fetch(`${dpm.url}/npm/@scope/pkg/-/pkg-0.2.0.tgz`, { headers: { range: 'bytes=999999-' } })
    assert.equal(unsatisfiable.status, 416)
  })

  it('answers HEAD on a cached tarball with its length and no body', async () => {
    const response = await fetch(`${dpm.url}/npm/@scope/pkg/-/pkg-0.2.0.tgz`, { method: 'HEAD' })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-length'), String(scoped.byteLength))
    assert.equal(response.headers.get('x-cache'), 'HIT')
  })

  it('answers a revalidating client with 304 for an unchanged packument', async () => {
    const first = await fetch(`${dpm.url}/npm/plain`)
    const etag = first.headers.get('etag')
    assert.ok(etag)
    const second = await fetch(`${dpm.url}/npm/plain`, { headers: { 'if-none-match': etag } })
    assert.equal(second.status, 304)
  })

  it('refuses writes: a mirror is read-only', async () => {
    const response = await fetch(`${dpm.url}/npm/plain`, { method: 'PUT', body: '{}' })
    assert.equal(response.status, 405)
    assert.ok('error' in (await response.json() as object))
  })

  it('rejects bad names with a 4xx in npm\'s shape, touching neither upstream nor store', async () => {
    await dpm.node.storing(10_000) // what earlier tests fetched is all recorded
    const requestsBefore = upstream.requests.length
    const blocksBefore = await countBlocks(dpm.dataDir)
    const recordsBefore = (await listIndex(dpm)).length
    const bad = [
      '/npm/..', '/npm/../etc/passwd', '/npm/%2e%2e', '/npm/%2e%2e/%2e%2e/etc/passwd', '/npm/%2E%2E%2Fsecret',
      '/npm/plain%00', '/npm/%00', '/npm/plain/-/..%2f..%2fx.tgz', '/npm/plain/-/x.tgz%00.tgz',
      `/npm/${'a'.repeat(300)}`, `/npm/${'a'.repeat(5000)}`, '/npm/.hidden', '/npm/_private', '/npm/@scope',
      '/npm/%zz', '/npm/has%20space', '/npm/@scope%2f..', '/npm/plain/-/plain-1.0.0.tar', '/npm/a\\b',
      '/npm/-/v1/search', '/npm/plain/1.0.0/extra/segments'
    ]
    for (const path of bad) {
      const response = await rawRequest(dpm.url, path)
      assert.ok(response.status >= 400 && response.status < 500, `${path} gave ${response.status}`)
      if (response.status !== 431 && response.status !== 414) {
        assert.equal(response.headers['content-type'], 'application/json', path)
        assert.equal(typeof JSON.parse(response.body).error, 'string', path)
        assert.ok(!response.body.includes('    at '), `${path} leaked a stack trace`)
      }
    }
    assert.equal(upstream.requests.length, requestsBefore, 'no bad request reached the upstream')
    assert.equal(await countBlocks(dpm.dataDir), blocksBefore)
    assert.equal((await listIndex(dpm)).length, recordsBefore)
  })
})
