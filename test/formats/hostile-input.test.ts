import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import aptPlugin from '../../formats/apt/index.ts'
import cargoPlugin from '../../formats/cargo/index.ts'
import ddsPlugin from '../../formats/dds/index.ts'
import ociPlugin from '../../formats/oci/index.ts'
import pypiPlugin from '../../formats/pypi/index.ts'
import type { FormatAdapter, Target } from '../../formats/index.ts'
import { npmAdapter } from '../../formats/npm/index.ts'
import { DpmError } from '../../src/errors.ts'
import { PLUGIN_API } from '../../src/plugins/load-plugins.ts'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { countBlocks, listIndex } from '../helpers/inspect-store.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'

/** Path segments a careless or hostile client sends, mixed with ordinary ones. */
const segment = fc.oneof(
  fc.webSegment(),
  fc.constantFrom('..', '.', '', '%2e%2e', '%2E%2e', '%2f', '%2F', '%5c', '\\', '%00', '%zz', '%', '@', '%40', '-', '~', 'http:', 'https:', 'evil.example', '%2F%2Fevil.example', 'a%2f..%2fb', '%C0%AE%C0%AE', '%E2%80%AE', 'con', 'a'.repeat(300), 'dp', 'm-', 'api', 'v1', 'crates', 'download', '1.0.0', 'config.json', 'simple', 'files', 'Neo_Util', 'neo-util', 'x.whl.metadata', 'dists', 'pool', 'by-hash', 'SHA256', 'InRelease', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'manifests', 'blobs', 'library', 'reg.test', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'latest',
    // names every plain object has: a lookup by a path segment must not find them
    'constructor', '__proto__', 'toString', 'hasOwnProperty'),
  fc.string({ unit: 'binary', maxLength: 12 }).map(encodeURIComponent)
)
const hostilePath = fc.array(segment, { minLength: 1, maxLength: 7 }).map((segments) => `/${segments.join('/')}`)

const UPSTREAM = 'http://127.0.0.1:4873/registry/'
const adapters: Array<{ name: string, adapter: FormatAdapter }> = [
  { name: 'npm', adapter: npmAdapter },
  { name: 'cargo', adapter: cargoPlugin(PLUGIN_API).mounts({ upstreams: [{ name: 'test', url: UPSTREAM }] })[0]!.adapter },
  { name: 'pypi', adapter: pypiPlugin(PLUGIN_API).mounts({ upstream: UPSTREAM })[0]!.adapter },
  { name: 'apt', adapter: aptPlugin(PLUGIN_API).mounts({ upstreams: [{ name: 'test', url: UPSTREAM }] })[0]!.adapter },
  { name: 'oci', adapter: ociPlugin(PLUGIN_API).mounts({ upstreams: new Map([['docker.io', UPSTREAM], ['reg.test', UPSTREAM]]), credentials: new Map() })[0]!.adapter },
  { name: 'dds', adapter: ddsPlugin(PLUGIN_API).mounts({ upstreams: [{ name: 'test', url: UPSTREAM }] })[0]!.adapter }
]

/** Every upstream URL a target would make the node fetch. */
function upstreamUrls (target: Target): string[] {
  if (target.kind === 'metadata') return [target.upstreamUrl]
  if (target.kind === 'artifact') return [target.publishedIn, ...(target.alsoPublishedIn ?? [])].flatMap((t) => t === undefined ? [] : [t.upstreamUrl]).concat(target.location === undefined ? [] : [target.location.url])
  return []
}

describe('adapters given hostile paths (property-based)', () => {
  for (const { name, adapter } of adapters) {
    it(`${name}: any path is a target below the configured upstream, or a 4xx — never another host, never a crash`, () => {
      fc.assert(fc.property(hostilePath, fc.string({ maxLength: 40 }), (path, accept) => {
        let target: Target
        try {
          target = adapter.parse({ method: 'GET', path, query: new URLSearchParams(), headers: new Headers({ accept: accept.replace(/[^\x20-\x7e]/g, '') }) }, UPSTREAM)
        } catch (err) {
          assert.ok(err instanceof DpmError, `${path}: threw ${String(err)}`)
          assert.ok(err.status >= 400 && err.status < 500, `${path}: status ${err.status}`)
          return
        }
        if (target.kind === 'local') assert.ok(target.status < 500, `${path}: a local answer of ${target.status}`)
        for (const url of upstreamUrls(target)) {
          assert.ok(url.startsWith(UPSTREAM), `${path} → ${url}`)
          const resolved = new URL(url)
          assert.equal(resolved.origin, new URL(UPSTREAM).origin, `${path} → ${url}`)
          assert.ok(resolved.pathname.startsWith(new URL(UPSTREAM).pathname), `${path} resolves to ${resolved.pathname}, outside the upstream`)
        }
      }), { numRuns: 3000 })
    })
  }
})

/** Each format's error body, as its clients read it. */
const errorShape: Record<string, { contentType: string, holds(body: string): boolean }> = {
  '/npm': { contentType: 'application/json', holds: (body) => typeof (JSON.parse(body) as { error?: unknown }).error === 'string' },
  '/dds/test': { contentType: 'application/json', holds: (body) => typeof (JSON.parse(body) as { error?: unknown }).error === 'string' },
  '/cargo/test': { contentType: 'application/json', holds: (body) => (JSON.parse(body) as { errors?: Array<{ detail?: unknown }> }).errors?.every((e) => typeof e.detail === 'string') === true },
  '/v2': { contentType: 'application/json', holds: (body) => (JSON.parse(body) as { errors?: Array<{ code?: unknown, message?: unknown }> }).errors?.every((e) => typeof e.code === 'string' && typeof e.message === 'string') === true },
  '/pypi': { contentType: 'text/plain; charset=utf-8', holds: (body) => body.length > 1 && body.endsWith('\n') },
  '/apt/test': { contentType: 'text/plain; charset=utf-8', holds: (body) => body.length > 1 && body.endsWith('\n') }
}

/** Headers a careless or hostile client sends: any printable value, or none. */
const printable = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''))
const hostileHeaders = fc.record({
  accept: printable,
  'accept-encoding': printable,
  range: fc.oneof(printable, fc.constantFrom('bytes=0-', 'bytes=-1', 'bytes=5-2', 'bytes=0-1,5-9')),
  'if-none-match': printable,
  'if-modified-since': printable,
  authorization: printable,
  host: fc.oneof(printable, fc.constantFrom('evil.example', 'evil.example:80', '127.0.0.1:1', '.0', 'a:99999', '0', '0:0', '0:80', '127.1:4873', 'EXAMPLE.test'))
}, { requiredKeys: [] })

describe('the gateway given hostile requests (property-based)', () => {
  let upstream: FakeNpmRegistry
  let dpm: TestNode
  before(async () => {
    upstream = await startFakeNpmRegistry()
    upstream.publish('real', { version: '1.0.0', tarball: randomBytes(3000) })
    // Cargo pointed at the same loopback server: names that parse get its 404, nothing leaves the machine
    dpm = await startTestNode({ npmUpstream: upstream.url, settings: { plugin_env: { DPM_CARGO_UPSTREAMS: `test=sparse+${upstream.url}`, DPM_PYPI_UPSTREAM: `${upstream.url}/simple/`, DPM_APT_UPSTREAMS: `test=${upstream.url}/debian/`, DPM_OCI_UPSTREAMS: `docker.io=${upstream.url},reg.test=${upstream.url}`, DPM_DDS_UPSTREAMS: `test=${upstream.url}/dds/` } } })
    await (await fetch(`${dpm.url}/npm/real/-/real-1.0.0.tgz`)).arrayBuffer()
  })
  after(async () => {
    await dpm.destroy()
    await upstream.close()
  })

  it('answers any path and headers under a format with a 4xx in that format\'s shape (or the page asked for), never a 5xx, a redirect away or a stored byte', async () => {
    await dpm.node.storing(10_000)
    const blocksBefore = await countBlocks(dpm.dataDir)
    const keysBefore = (await listIndex(dpm)).map((r) => r.key).sort()
    const answered: string[] = []
    await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(errorShape)), hostilePath, hostileHeaders, async (prefix, path, headers) => {
      const response = await rawRequest(dpm.url, `${prefix}${path}`, { headers })
      const said = `${prefix}${path} ${JSON.stringify(headers)}: ${response.status} ${response.body.slice(0, 200)}`
      assert.ok(response.status < 500, said)
      assert.ok(!/\n\s+at /.test(response.body), `${said}: a stack trace`)
      // a relative Location (PyPI's `simple` → `simple/`) is fine, as long as it stays on the node
      if (response.status >= 300 && response.status < 400) assert.equal(new URL(response.headers.location ?? 'missing:', `${dpm.url}${prefix}${path}`).origin, new URL(dpm.url).origin, `${said}: redirected to ${response.headers.location}`)
      if (response.status < 400) { answered.push(`${prefix}${path}`); return }
      const shape = errorShape[prefix]!
      assert.equal(response.headers['content-type'], shape.contentType, said)
      assert.ok(shape.holds(response.body), `${said}: not in the format's error shape`)
    }), { numRuns: 400 })
    assert.equal((await fetch(`${dpm.url}/-/health`)).status, 200)
    // the fake upstream has nothing for any of these paths: nothing new can have been stored
    await dpm.node.storing(10_000)
    assert.equal(await countBlocks(dpm.dataDir), blocksBefore, 'blocks written')
    assert.deepEqual((await listIndex(dpm)).map((r) => r.key).sort(), keysBefore, 'index records written')
    console.log(`answered without an error: ${JSON.stringify([...new Set(answered)])}`)
  })

  it('answers any Range, Accept and If-None-Match on a cached artifact with 200, 206, 304 or 416', async () => {
    const header = printable
    const range = fc.oneof(header, fc.tuple(fc.nat(5000), fc.nat(5000)).map(([a, b]) => `bytes=${a}-${b}`), fc.constantFrom('bytes=-0', 'bytes=0-', 'bytes=-99999', 'bytes=5-2', 'bytes=0-1,5-9', 'items=0-1'))
    await fc.assert(fc.asyncProperty(range, header, header, async (rangeValue, accept, etag) => {
      const response = await rawRequest(dpm.url, '/npm/real/-/real-1.0.0.tgz', { headers: { range: rangeValue, accept, 'if-none-match': etag } })
      assert.ok([200, 206, 304, 416].includes(response.status), `Range "${rangeValue}": ${response.status} ${response.body.slice(0, 200)}`)
    }), { numRuns: 200 })
  })
})
