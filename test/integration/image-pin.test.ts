import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { MANIFEST_TYPES } from '../../formats/oci/manifest.ts'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { startOciRegistry, type OciRegistry } from '../helpers/oci-registry.ts'
import { runDpm } from '../helpers/run-dpm.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'

const MiB = 1024 * 1024
const TOKEN = 'the-admin-token-of-this-node'
const AUTH = { authorization: `Bearer ${TOKEN}` }

/**
 * A pinned image tag keeps the image, not only the tag's manifest: a node whose
 * store holds 4 MiB, one platform of a two-platform image pulled through it
 * (1 index, 1 manifest, a config and three 256 KiB layers), then npm tarballs
 * enough to push the store over its limit.
 */
describe('a pinned image tag (dpm pin /v2/…/manifests/<tag>)', () => {
  let registry: OciRegistry
  let upstream: FakeNpmRegistry
  let dpm: TestNode
  const fillers = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6']
  let base: string
  let tagPath: string
  /** The keys of what was pulled: the index (by tag), one platform's manifest, its config and layers. */
  let pulled: { manifest: string, blobs: string[] }

  const get = async (path: string, accept?: string): Promise<{ status: number, cache: string | null, body: Buffer }> => {
    const res = await fetch(`${dpm.url}${path}`, { headers: accept === undefined ? {} : { accept } })
    return { status: res.status, cache: res.headers.get('x-cache'), body: Buffer.from(await res.arrayBuffer()) }
  }
  const stored = async (): Promise<Set<string>> => {
    const keys = new Set<string>()
    for await (const record of dpm.node.index.all()) keys.add(record.key)
    return keys
  }
  const gc = async (): Promise<{ evicted: Array<{ key: string }>, overLimit: boolean }> => {
    // what was just fetched is stored and recorded first: a client has its last byte before the record is written
    await dpm.node.storing(10_000)
    const res = await fetch(`${dpm.url}/-/api/gc`, { method: 'POST', headers: AUTH })
    assert.equal(res.status, 200)
    return await res.json() as { evicted: Array<{ key: string }>, overLimit: boolean }
  }
  const imageKey = (digest: string): string => `oci:reg.test/${registry.image.repository}@${digest}`

  before(async () => {
    registry = await startOciRegistry()
    upstream = await startFakeNpmRegistry()
    for (const name of fillers) upstream.publish(name, { version: '1.0.0', tarball: randomBytes(1.25 * MiB) })
    dpm = await startTestNode({ npmUpstream: upstream.url, settings: { max_store: 4 * MiB, admin_token: TOKEN, plugin_env: { DPM_OCI_UPSTREAMS: `reg.test=${registry.url}` } } })
    base = `/v2/reg.test/${registry.image.repository}`
    tagPath = `${base}/manifests/${registry.image.tag}`

    // a puller for one platform: the tag, that platform's manifest, its config and layers
    const index = await get(tagPath, MANIFEST_TYPES.join(', '))
    assert.equal(index.status, 200)
    const manifest = JSON.parse(index.body.toString()).manifests[0].digest as string
    const image = await get(`${base}/manifests/${manifest}`, MANIFEST_TYPES.join(', '))
    assert.equal(image.status, 200)
    const { config, layers } = JSON.parse(image.body.toString()) as { config: { digest: string }, layers: Array<{ digest: string }> }
    pulled = { manifest, blobs: [config.digest, ...layers.map((l) => l.digest)] }
    for (const digest of pulled.blobs) assert.equal((await get(`${base}/blobs/${digest}`)).status, 200)
  })
  after(async () => {
    await dpm?.destroy()
    await upstream?.close()
    await registry?.close()
  })

  it('pins the tag and says what of the image it keeps, and what the node does not hold', async () => {
    const pin = await runDpm(['pin', '--url', dpm.url, tagPath], { DPM_ADMIN_TOKEN: TOKEN })
    assert.equal(pin.code, 0, pin.stderr)
    const other = registry.image.manifests.find((d) => d !== pulled.manifest)!
    const names = 1 + pulled.blobs.length + 1
    const tagKey = `oci:reg.test/${registry.image.repository}:${registry.image.tag}`
    assert.equal(pin.stdout, `pinned ${tagPath} (${tagKey}), and the ${names - 1} of the ${names} keys it names that are stored (fetch the others through the node to keep them too: ${imageKey(other)})\n`)

    const res = await fetch(`${dpm.url}/-/api/pins`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ path: tagPath }) })
    const answer = await res.json() as { keeps: string[], missing: string[] }
    assert.deepEqual(answer.keeps.sort(), [pulled.manifest, ...pulled.blobs].map(imageKey).sort())
    assert.deepEqual(answer.missing, [imageKey(other)])

    // the list of pins says the same of each
    const { pins } = await (await fetch(`${dpm.url}/-/api/pins`)).json() as { pins: Array<{ key: string, keeps: string[], missing: string[] }> }
    assert.deepEqual(pins.map((p) => [p.key, p.keeps.sort(), p.missing]), [[tagKey, answer.keeps, answer.missing]])
    const list = await runDpm(['pin', '--url', dpm.url])
    assert.equal(list.stdout, `${tagKey}, and the ${names - 1} of the ${names} keys it names that are stored (fetch the others through the node to keep them too: ${imageKey(other)})\n`)
  })

  it('keeps every manifest and blob of it when the store is over its limit, and serves them as HITs', async () => {
    dpm.advance(60_000)
    for (const name of fillers.slice(0, 3)) assert.equal((await get(`/npm/${name}/-/${name}-1.0.0.tgz`)).cache, 'MISS')
    dpm.advance(60_000)
    const report = await gc()
    assert.equal(report.overLimit, false)
    const keys = await stored()
    assert.ok(!fillers.slice(0, 3).every((name) => keys.has(`npm:tarball:${name}/-/${name}-1.0.0.tgz`)), 'tarballs used later than the image were evicted')
    for (const key of [`oci:reg.test/${registry.image.repository}:${registry.image.tag}`, ...[pulled.manifest, ...pulled.blobs].map(imageKey)]) assert.ok(keys.has(key), `${key} kept`)
    for (const digest of pulled.blobs) {
      const blob = await get(`${base}/blobs/${digest}`)
      assert.deepEqual([blob.status, blob.cache], [200, 'HIT'], digest)
    }
    assert.equal((await get(`${base}/manifests/${pulled.manifest}`, MANIFEST_TYPES.join(', '))).cache, 'HIT')
  })

  it('once unpinned, the image is evicted like anything else used as long ago', async () => {
    const unpin = await runDpm(['unpin', '--url', dpm.url, tagPath], { DPM_ADMIN_TOKEN: TOKEN })
    assert.equal(unpin.code, 0, unpin.stderr)
    dpm.advance(60_000)
    for (const name of fillers.slice(3)) assert.equal((await get(`/npm/${name}/-/${name}-1.0.0.tgz`)).status, 200)
    dpm.advance(60_000)
    await gc()
    // f4–f6 alone are over the low-water mark: all that was used before them goes
    const keys = await stored()
    for (const key of [pulled.manifest, ...pulled.blobs].map(imageKey)) assert.ok(!keys.has(key), `${key} evicted`)
  })
})
