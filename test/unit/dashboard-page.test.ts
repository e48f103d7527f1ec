import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { clientSnippets } from '../../src/gateway/dashboard/client-snippets.ts'
import { dashboardPage } from '../../src/gateway/dashboard/page.ts'
import type { NodeStatus } from '../../src/node/node-status.ts'

const HOSTILE = '"><img src=x onerror=alert(1)>'

const mounts = (name: string, ...prefixes: string[]) => ({ name, mounts: prefixes.map((prefix) => ({ prefix, upstream: 'http://upstream.test/' })) })

describe('the dashboard page', () => {
  it('gives each enabled format the README’s client set-up, with the public URL', () => {
    const snippets = clientSnippets('http://cache.lan:8484', [mounts('npm', '/npm/'), mounts('pypi', '/pypi/'), mounts('apt', '/apt/debian/', '/apt/debian-security/'), mounts('oci', '/v2/'), mounts('cargo', '/cargo/crates-io/', '/cargo/internal/')])
    const text = Object.fromEntries(snippets.map((s) => [s.id, s.text]))
    assert.equal(text['snippet-npm-0'], 'npm config set registry http://cache.lan:8484/npm/')
    assert.equal(text['snippet-pypi-0'], 'pip config set global.index-url http://cache.lan:8484/pypi/simple/')
    assert.equal(text['snippet-apt-0'], 'deb http://cache.lan:8484/apt/debian <suite> main')
    assert.equal(text['snippet-apt-1'], 'deb http://cache.lan:8484/apt/debian-security <suite> main')
    assert.equal(text['snippet-oci-0-docker'], '{ "registry-mirrors": ["http://cache.lan:8484"], "insecure-registries": ["cache.lan:8484"] }')
    assert.match(text['snippet-oci-0-containerd']!, /\[host\."http:\/\/cache\.lan:8484"\]\n {2}capabilities = \["pull", "resolve"\]/)
    assert.match(text['snippet-oci-0-podman']!, /location = "cache\.lan:8484\/docker\.io"\ninsecure = true/)
    assert.match(text['snippet-cargo-0']!, /\[source\.crates-io\]\nreplace-with = "dpm"\n\n\[source\.dpm\]\nregistry = "sparse\+http:\/\/cache\.lan:8484\/cargo\/crates-io\/"/)
    assert.equal(text['snippet-cargo-1'], '[registries.internal]\nindex = "sparse+http://cache.lan:8484/cargo/internal/"')
    assert.deepEqual(clientSnippets('https://cache.example/', [mounts('oci', '/v2/')]).map((s) => s.text.includes('insecure')), [false, false, false], 'https needs no insecure registry')
    assert.deepEqual(clientSnippets('http://x/', [mounts('npm', '/npm/')]).map((s) => s.format), ['npm'], 'only enabled formats')
  })

  it('escapes everything that came from outside', async () => {
    const status: NodeStatus = {
      node: { status: 'ok', version: '0.1.0', peerId: '12D3KooWtest', multiaddrs: [`/ip4/127.0.0.1/tcp/1/${HOSTILE}`], publicUrl: `http://x/${HOSTILE}/`, swarm: true, startedAt: 0 },
      peers: [{ id: HOSTILE, addresses: [HOSTILE] }],
      store: { usedBytes: 1536, limitBytes: 1024 ** 3, pinned: 2 },
      formats: [{ name: 'npm', mounts: [{ prefix: '/npm/', upstream: HOSTILE }], responses: { HIT: 3, PEER: 1, MISS: 0, STALE: 0 }, total: 4, hitRatio: 0.75, peerRatio: 0.25 }],
      history: { intervalSeconds: 30, samples: [{ at: Date.now() - 30_000, formats: { npm: { HIT: 3, PEER: 1, MISS: 0, STALE: 0 } } }, { at: Date.now(), formats: {} }] },
      recent: [{ at: Date.now(), format: 'npm', method: 'GET', path: `/npm/${HOSTILE}`, status: 200, cache: 'HIT', ms: 1 }]
    }
    const page = String(await dashboardPage(status, { query: HOSTILE, error: HOSTILE }, 'n0nce'))
    assert.ok(!page.includes('<img'), 'no markup from the outside')
    assert.ok(page.includes('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'))
    assert.match(page, /<style nonce="n0nce">/)
    assert.match(page, /<script nonce="n0nce">/)
    assert.equal((page.match(/<script/g) ?? []).length, 1, 'one script: the copy buttons')
    assert.match(page, /1\.5 KB<\/strong> of 1 GB \(0\.0%\), 2 pinned/)
    assert.match(page, /data-testid="hit-ratio-npm">75\.0%</)
    assert.match(page, /<title>\d\d:\d\d:\d\d UTC: 3 HIT, 1 PEER, 0 MISS, 0 STALE \(75% HIT\)<\/title>/)
  })

  it('shows the catalog\'s packages and the cached records of a search, escaped', async () => {
    const status: NodeStatus = {
      node: { status: 'ok', version: '0.1.0', peerId: '12D3KooWtest', multiaddrs: [], publicUrl: 'http://x/', swarm: false, startedAt: 0 },
      peers: [],
      store: { usedBytes: 0, limitBytes: 1024 ** 3, pinned: 0 },
      formats: [],
      history: { intervalSeconds: 30, samples: [] },
      recent: []
    }
    const answer = {
      query: 'neo*',
      packages: [{ name: `neo${HOSTILE}`, versions: ['0.2.1', '0.10.0'], from: [HOSTILE], description: HOSTILE }, { name: 'neo-py', versions: [], from: ['pypi'], versionsNote: 'not in the listing' }],
      packagesTruncated: false,
      suggestions: [],
      cached: [{ format: 'npm', key: `npm:tarball:neo/-/neo-1.0.0.tgz${HOSTILE}`, size: 2048, fetchedAt: 0 }],
      truncated: false
    }
    const page = String(await dashboardPage(status, { query: 'neo*', answer }, 'n0nce'))
    assert.ok(!page.includes('<img'), 'no markup from the outside')
    assert.equal((page.match(/data-testid="package-result"/g) ?? []).length, 2)
    assert.match(page, /<td>0\.2\.1, 0\.10\.0<\/td>/)
    assert.match(page, /<span class="muted">not in the listing<\/span>/)
    assert.equal((page.match(/data-testid="search-result"/g) ?? []).length, 1)
    const none = String(await dashboardPage(status, { query: 'neo-bufer', answer: { ...answer, query: 'neo-bufer', packages: [], suggestions: ['neo-buffer'], cached: [] } }, 'n0nce'))
    assert.match(none, /No package in the catalog matches <code>neo-bufer<\/code>\. Closest names: <a href="\/\?q=neo-buffer#search" data-testid="suggestion">neo-buffer<\/a>/)
    assert.match(none, /data-testid="search-empty">Nothing cached matches/)
  })
})
