import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startOciRegistry, type OciRegistry } from '../../helpers/oci-registry.ts'
import { runCommand, type CommandResult } from '../../helpers/run-command.ts'
import { spawnNode, type SpawnedNode } from '../../helpers/spawn-node.ts'
import { generateSwarmKey } from '../../helpers/swarm-key.ts'
import { addressOf, pulledIndex } from '../../helpers/swarm-harness.ts'
import { tempDir } from '../../helpers/temp-dir.ts'

const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json'
const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** `skopeo ARGS…`; never run synchronously: the fake registry's front lives in this process. */
const skopeo = async (...args: string[]): Promise<CommandResult> => await runCommand('skopeo', args)

const cachesOf = async (node: SpawnedNode, since: number): Promise<string[]> =>
  (await node.requests(since, /\/(manifests|blobs)\//)).map((l) => String(l.cache))

/** The real skopeo and buildah through nodes in front of Debian's docker-registry, behind a token server and a blob CDN. */
describe('OCI images through a node', () => {
  const key = generateSwarmKey()
  const cleanup: Array<() => Promise<unknown>> = []
  let registry: OciRegistry
  let a: SpawnedNode
  const start = async (env: Record<string, string> = {}): Promise<SpawnedNode> => {
    const dir = await mkdtemp(join(tmpdir(), 'dpm-oci-node-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const node = await spawnNode({ dataDir: dir, env: { DPM_SWARM_KEY: key, DPM_OCI_UPSTREAMS: `reg.test=${registry.url}`, ...env } })
    cleanup.push(() => node.stop())
    return node
  }
  const imageVia = (node: SpawnedNode, ref = `${registry.image.tag}`): string => `docker://${new URL(node.url).host}/reg.test/${registry.image.repository}:${ref}`
  /** `skopeo copy --all` of the image through `node` into a fresh OCI layout; the blob digests it holds. */
  const pull = async (node: SpawnedNode): Promise<string[]> => {
    const out = await mkdtemp(join(tmpdir(), 'dpm-oci-pull-'))
    cleanup.push(() => rm(out, { recursive: true, force: true }))
    const copied = await skopeo('copy', '--all', '--quiet', '--src-tls-verify=false', imageVia(node), `oci:${out}:pulled`)
    assert.ok(copied.ok, copied.stderr)
    // every blob file hashes to its name: what skopeo got is what the digests say
    const names = await readdir(join(out, 'blobs', 'sha256'))
    for (const name of names) assert.equal(sha256(await readFile(join(out, 'blobs', 'sha256', name))), `sha256:${name}`)
    return names.map((n) => `sha256:${n}`).sort()
  }
  const wholeImage = (): string[] => [registry.image.index, ...registry.image.manifests, ...registry.image.blobs].sort()

  before(async () => {
    registry = await startOciRegistry()
    cleanup.push(() => registry.close())
    a = await start()
  })
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('pulls a multi-arch image with the upstream\'s digests, through its token server and blob CDN', async () => {
    assert.deepEqual(await pull(a), wholeImage())
    assert.deepEqual([...new Set(await cachesOf(a, 0))], ['MISS'])
    assert.equal(registry.tokensIssued, 1, 'one token, reused for the whole pull')
    assert.equal(registry.leakedAuthorization, 0, 'the token never went to the CDN')
    assert.deepEqual([...registry.cdnRequests].sort(), [...registry.image.blobs].sort())
  })

  it('serves buildah: the pulled image is the upstream\'s index, its layers unpacked', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dpm-buildah-'))
    cleanup.push(() => rm(root, { recursive: true, force: true }))
    const storage = ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs']
    const image = imageVia(a).slice('docker://'.length)
    const pulled = await runCommand('buildah', [...storage, 'pull', '--quiet', '--tls-verify=false', image])
    assert.ok(pulled.ok, pulled.stderr)
    const images = await runCommand('buildah', [...storage, 'images', '--json', image])
    assert.ok(images.ok, images.stderr)
    const [listed] = JSON.parse(images.stdout) as Array<{ digest: string }>
    assert.equal(listed?.digest, registry.image.index)
  })

  it('gives the token server the credentials set for the registry', async () => {
    const withLogin = await start({ DPM_OCI_CREDENTIALS: 'reg.test=mirror-bot:s3cret' })
    const users = registry.tokenUsers.length
    const response = await fetch(`${withLogin.url}/v2/reg.test/${registry.image.repository}/manifests/${registry.image.tag}`)
    assert.equal(response.status, 200)
    await response.arrayBuffer()
    assert.deepEqual(registry.tokenUsers.slice(users), ['mirror-bot'])
  })

  it('pulls it again entirely from its store: every manifest and blob a HIT', async () => {
    const mark = (await a.settled()).length
    const asked = registry.cdnRequests.length
    assert.deepEqual(await pull(a), wholeImage())
    assert.deepEqual([...new Set(await cachesOf(a, mark))], ['HIT'])
    assert.equal(registry.cdnRequests.length, asked)
  })

  it('speaks the distribution API: exact manifest bytes and media type, digests, HEAD, Range, the containerd mirror form', async () => {
    const upstream = await (await fetch(`${registry.url}/v2/${registry.image.repository}/manifests/${registry.image.index}`, { headers: { authorization: `Bearer ${await token()}`, accept: INDEX_TYPE } })).arrayBuffer()
    for (const path of [`/v2/reg.test/${registry.image.repository}/manifests/${registry.image.tag}`, `/v2/${registry.image.repository}/manifests/${registry.image.tag}?ns=reg.test`]) {
      const response = await fetch(`${a.url}${path}`, { headers: { accept: INDEX_TYPE } })
      assert.equal(response.status, 200, path)
      assert.equal(response.headers.get('content-type'), INDEX_TYPE)
      assert.equal(response.headers.get('docker-content-digest'), registry.image.index)
      assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0')
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), Buffer.from(upstream), 'never re-serialized')
    }
    const root = await fetch(`${a.url}/v2/`)
    assert.equal(root.status, 200)
    assert.equal(root.headers.get('docker-distribution-api-version'), 'registry/2.0')
    const head = await fetch(`${a.url}/v2/reg.test/${registry.image.repository}/manifests/${registry.image.index}`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('docker-content-digest'), registry.image.index)
    const layer = registry.image.blobs[1]!
    const range = await fetch(`${a.url}/v2/reg.test/${registry.image.repository}/blobs/${layer}`, { headers: { range: 'bytes=0-99' } })
    assert.equal(range.status, 206)
    assert.equal((await range.arrayBuffer()).byteLength, 100)
  })

  it('answers bad and foreign requests with the distribution spec\'s errors, asking no upstream', async () => {
    const asked = registry.requests.length
    const cases: Array<[string, number, string, RequestInit?]> = [
      [`/v2/${registry.image.repository}/manifests/1.0?ns=evil.example`, 404, 'NAME_UNKNOWN'],
      ['/v2/evil.example/test/app/manifests/1.0', 404, 'NAME_UNKNOWN'],
      ['/v2/reg.test/Test/App/manifests/1.0', 400, 'NAME_INVALID'],
      ['/v2/reg.test/test/app/blobs/sha256:xyz', 400, 'DIGEST_INVALID'],
      ['/v2/reg.test/test/app/manifests/bad%20tag', 400, 'TAG_INVALID'],
      ['/v2/reg.test/test/..%2f..%2fapp/manifests/1.0', 400, 'NAME_INVALID'],
      ['/v2/reg.test/test/app/blobs/uploads/', 404, 'UNSUPPORTED'],
      [`/v2/reg.test/test/app/manifests/${registry.image.tag}`, 405, 'UNSUPPORTED', { method: 'PUT', body: '{}' }]
    ]
    for (const [path, status, code, init] of cases) {
      const response = await fetch(`${a.url}${path}`, init)
      assert.equal(response.status, status, path)
      const body = await response.json() as { errors: Array<{ code: string }> }
      assert.equal(body.errors[0]?.code, code, path)
    }
    assert.equal(registry.requests.length, asked)
    const missing = await fetch(`${a.url}/v2/reg.test/test/app/blobs/sha256:${'0'.repeat(64)}`)
    assert.equal(missing.status, 404)
    assert.equal((await missing.json() as { errors: Array<{ code: string }> }).errors[0]?.code, 'BLOB_UNKNOWN')
  })

  it('makes one upstream request per blob for 20 concurrent cold pulls', async () => {
    const cold = await start()
    const before = registry.cdnRequests.length
    const outs = await Promise.all(Array.from({ length: 20 }, async () => await mkdtemp(join(tmpdir(), 'dpm-oci-many-'))))
    cleanup.push(...outs.map((out) => () => rm(out, { recursive: true, force: true })))
    const results = await Promise.all(outs.map(async (out) => await skopeo('copy', '--all', '--quiet', '--src-tls-verify=false', imageVia(cold), `oci:${out}:pulled`)))
    for (const result of results) assert.ok(result.ok, result.stderr)
    assert.deepEqual(registry.cdnRequests.slice(before).sort(), [...registry.image.blobs].sort())
  })

  it('refuses a blob whose bytes do not match its digest: the client never gets them, nothing is kept', async () => {
    const fresh = await start()
    const layer = registry.image.blobs[2]!
    registry.tampered.set(layer, Buffer.from('not the layer its digest names'))
    const refused = await fetch(`${fresh.url}/v2/reg.test/${registry.image.repository}/blobs/${layer}`)
    assert.equal(refused.status, 502)
    assert.equal(refused.headers.get('content-type'), 'application/json')
    await refused.arrayBuffer()
    const failed = await skopeo('copy', '--all', '--quiet', '--src-tls-verify=false', imageVia(fresh), `oci:${await tempDir('oci-bad-')}:x`)
    assert.ok(!failed.ok)
    registry.tampered.clear()
    const fixed = await fetch(`${fresh.url}/v2/reg.test/${registry.image.repository}/blobs/${layer}`)
    assert.equal(fixed.headers.get('x-cache'), 'MISS', 'the refused bytes were not kept')
    assert.equal(sha256(Buffer.from(await fixed.arrayBuffer())), layer)
  })

  it('pulls by tag with the upstream down (the tag STALE), and a second node pulls the image from the swarm', async () => {
    registry.up = false
    const reload = await fetch(`${a.url}/v2/reg.test/${registry.image.repository}/manifests/${registry.image.tag}`, { headers: { 'cache-control': 'no-cache' } })
    assert.equal(reload.status, 200)
    assert.equal(reload.headers.get('x-cache'), 'STALE')
    await reload.arrayBuffer()
    assert.deepEqual(await pull(a), wholeImage())

    const b = await start({ DPM_BOOTSTRAP: await addressOf(a) })
    await pulledIndex(b, wholeImage().length)
    assert.deepEqual(await pull(b), wholeImage())
    assert.deepEqual([...new Set(await cachesOf(b, 0))], ['PEER'])
    registry.up = true
  })

  /** A token from the registry's own token server, to read the upstream directly. */
  async function token (): Promise<string> {
    return (await (await fetch(`${registry.url}/token?service=dpm-test&scope=repository:${registry.image.repository}:pull`)).json() as { token: string }).token
  }
})
