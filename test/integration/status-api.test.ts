import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { freePort } from '../helpers/free-port.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'
import type { NodeStatus } from '../../src/node/node-status.ts'
import type { SearchAnswer } from '../../src/gateway/search-both.ts'

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const TARBALL = '/npm/leftpad/-/leftpad-1.0.0.tgz'

/** `dpm status` as its own process, with no settings of the user's in the way. */
async function dpmStatus (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [MAIN, 'status', ...args], { env: { PATH: process.env.PATH, HOME: '/nonexistent' }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? -1, stdout, stderr })
    })
  })
}

describe('/-/api/status, /-/api/search and dpm status', () => {
  let registry: FakeNpmRegistry
  let t: TestNode
  const get = async (path: string): Promise<Response> => await fetch(`${t.url}${path}`)
  const search = async (query: string): Promise<{ status: number, body: SearchAnswer & { error?: string } }> => {
    const res = await get(`/-/api/search?q=${encodeURIComponent(query)}`)
    return { status: res.status, body: await res.json() as never }
  }

  before(async () => {
    registry = await startFakeNpmRegistry()
    registry.publish('leftpad', { version: '1.0.0', tarball: randomBytes(20_000) })
    t = await startTestNode({ npmUpstream: registry.url, settings: { max_store: 3 * 1024 ** 3 }, activityIntervalMs: 150 })
    // packument: MISS then HIT; tarball: MISS then two HITs; the health probe carries no X-Cache
    for (const path of ['/npm/leftpad', '/npm/leftpad', TARBALL, TARBALL, TARBALL, '/-/health']) {
      const res = await get(path)
      await res.arrayBuffer()
      assert.equal(res.status, 200, path)
    }
  })
  after(async () => {
    await t.destroy()
    await registry.close()
  })

  it('reports identity, store usage, hit ratios, history and recent fetches after known traffic', async () => {
    const health = await (await get('/-/health')).json() as { peerId: string, version: string }
    // a sample has closed since the traffic, so the history holds it
    await new Promise((resolve) => setTimeout(resolve, 400))
    const res = await get('/-/api/status')
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /application\/json/)
    const status = await res.json() as NodeStatus

    assert.equal(status.node.peerId, health.peerId)
    assert.equal(status.node.version, health.version)
    assert.equal(status.node.publicUrl, t.node.publicUrl)
    assert.equal(status.node.swarm, false)
    assert.deepEqual(status.peers, [])

    let stored = 0
    for await (const record of t.node.index.all()) stored += record.size
    assert.ok(stored > 20_000, 'the tarball and the packument are stored')
    assert.deepEqual(status.store, { usedBytes: stored, limitBytes: 3 * 1024 ** 3, pinned: 0 })

    const npm = status.formats.find((f) => f.name === 'npm')
    assert.ok(npm !== undefined)
    assert.deepEqual(npm.responses, { HIT: 3, PEER: 0, MISS: 2, STALE: 0 })
    assert.equal(npm.total, 5)
    assert.equal(npm.hitRatio, 0.6)
    assert.equal(npm.peerRatio, 0)
    assert.deepEqual(npm.mounts.map((m) => m.prefix), ['/npm/'])

    // newest first, only requests that carried X-Cache
    assert.deepEqual(status.recent.map((f) => [f.path, f.cache]), [
      [TARBALL, 'HIT'], [TARBALL, 'HIT'], [TARBALL, 'MISS'], ['/npm/leftpad', 'HIT'], ['/npm/leftpad', 'MISS']
    ])
    for (const f of status.recent) {
      assert.equal(f.format, 'npm')
      assert.equal(f.method, 'GET')
      assert.equal(f.status, 200)
      assert.ok(f.ms >= 0 && Number.isInteger(f.ms))
      assert.ok(Math.abs(Date.now() - f.at) < 60_000)
    }

    assert.equal(status.history.intervalSeconds, 0.15)
    assert.ok(status.history.samples.length >= 2, 'closed samples and the open one')
    const hits = status.history.samples.reduce((sum, s) => sum + (s.formats.npm?.HIT ?? 0), 0)
    const misses = status.history.samples.reduce((sum, s) => sum + (s.formats.npm?.MISS ?? 0), 0)
    assert.deepEqual([hits, misses], [3, 2])
    const times = status.history.samples.map((s) => s.at)
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first')
  })

  it('search finds cached records by a case-insensitive glob over keys and their tails', async () => {
    const all = await search('leftpad*')
    assert.equal(all.status, 200)
    assert.deepEqual(all.body.cached.map((r) => r.key), ['npm:packument:leftpad', 'npm:tarball:leftpad/-/leftpad-1.0.0.tgz'])
    const tarball = all.body.cached[1]!
    assert.equal(tarball.format, 'npm')
    assert.equal(tarball.size, 20_000)
    assert.ok(Math.abs(Date.now() - tarball.fetchedAt) < 60_000)
    assert.equal(all.body.query, 'leftpad*')
    assert.equal(all.body.truncated, false)
    assert.deepEqual([all.body.packages, all.body.packagesTruncated], [[], false], 'no repository added: the catalog has no packages')

    assert.deepEqual((await search('*.TGZ')).body.cached.map((r) => r.key), ['npm:tarball:leftpad/-/leftpad-1.0.0.tgz'])
    assert.deepEqual((await search('npm:packument:*')).body.cached.map((r) => r.key), ['npm:packument:leftpad'])
    assert.deepEqual((await search('LEFT{PAD,X}-1.0.[0-9].tgz')).body.cached.map((r) => r.key), ['npm:tarball:leftpad/-/leftpad-1.0.0.tgz'])
    assert.deepEqual((await search('left')).body.cached, [], 'a glob without a star matches a whole part, not a substring')
    const everything = await get('/-/api/search')
    assert.equal(everything.status, 200, 'q left out is *')
    assert.equal((await everything.json() as SearchAnswer).cached.length, 2)
  })

  it('search answers hostile queries with a clear 400, odd but harmless ones with results', async () => {
    for (const [query, why] of [['[abc', /\[/], ['{a,b', /\{/], ['a}', /\}/], ['[z-a]', /backwards/], ['x\\', /\\/], ['', /empty/], ['   ', /empty/], ['a'.repeat(201), /at most 200/], ['lo\u0000dash', /control/], ['{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}', /alternatives/]] as const) {
      const { status, body } = await search(query)
      assert.equal(status, 400, JSON.stringify(query))
      assert.match(body.error ?? '', why, JSON.stringify(query))
    }
    assert.equal((await get('/-/api/search?q=a&q=b')).status, 400)

    for (const query of ['<script>alert(1)</script>', '✓ ünïcode', '../../etc/passwd', "' OR 1=1 --", '%s%n', 'a'.repeat(200)]) {
      const { status, body } = await search(query)
      assert.equal(status, 200, query)
      assert.deepEqual(body.cached, [], query)
    }
    const res = await get('/-/api/search?q=%ff%fe')
    assert.ok(res.status === 200 || res.status === 400, `a broken percent-encoding gets an answer, not ${res.status}`)

    // a glob that makes a backtracking regex run for seconds is linear here
    const started = performance.now()
    const slow = await search(`${'*a'.repeat(20)}*b`)
    assert.equal(slow.status, 200)
    assert.ok(performance.now() - started < 2_000, `took ${Math.round(performance.now() - started)} ms`)
  })

  it('the dashboard page renders escaped, with a CSP, and refuses a bad search with a 400 page', async () => {
    const res = await get('/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E')
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /text\/html/)
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/)
    const page = await res.text()
    assert.ok(!page.includes('<script>alert(1)'), 'the query is escaped')
    assert.ok(page.includes('&lt;script&gt;alert(1)'))
    const bad = await get('/?q=%5Babc')
    assert.equal(bad.status, 400)
    assert.match(await bad.text(), /not a glob: unclosed &quot;\[&quot;|not a glob: unclosed "\["/)
  })

  it('dpm status prints the same facts from a running node, and --json the status itself', async () => {
    const { code, stdout, stderr } = await dpmStatus(['--url', t.url])
    assert.equal(code, 0, stderr)
    const status = await (await get('/-/api/status')).json() as NodeStatus
    const lines = stdout.split('\n')
    assert.ok(lines.includes(`node      ${status.node.peerId}`), stdout)
    assert.ok(lines.includes(`public    ${t.node.publicUrl}`), stdout)
    assert.ok(lines.includes('swarm     off (no swarm key: running alone)'), stdout)
    assert.ok(lines.some((l) => /^store {5}\d+(\.\d)? KB of 3 GB \(0\.0%\), 0 pinned$/.test(l)), stdout)
    assert.ok(lines.some((l) => /^npm\s+3\s+0\s+2\s+0\s+60\.0%\s+0\.0%$/.test(l)), stdout)
    const recent = lines.filter((l) => l.includes(TARBALL))
    assert.equal(recent.length, 3, stdout)
    assert.match(recent[0]!, /^ {2}\d\d:\d\d:\d\d {2}HIT {4}200 {2}GET {3}\/npm\/leftpad\/-\/leftpad-1\.0\.0\.tgz {2}\d+ ms$/)

    const json = await dpmStatus(['--url', t.url, '--json'])
    assert.equal(json.code, 0, json.stderr)
    const parsed = JSON.parse(json.stdout) as NodeStatus
    assert.equal(parsed.node.peerId, status.node.peerId)
    assert.equal(parsed.formats.find((f) => f.name === 'npm')?.hitRatio, 0.6)
  })

  it('dpm status without a node says so in one line and exits 1', async () => {
    const port = await freePort()
    const { code, stdout, stderr } = await dpmStatus(['--url', `http://127.0.0.1:${port}`])
    assert.equal(code, 1)
    assert.equal(stdout, '')
    const lines = stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, stderr)
    assert.match(lines[0]!, new RegExp(`^dpm status: no node answers at http://127\\.0\\.0\\.1:${port} .*dpm start`))

    const settingsPort = await freePort()
    const fromSettings = await new Promise<{ code: number, stderr: string }>((resolve) => {
      execFile(process.execPath, [MAIN, 'status'], { env: { PATH: process.env.PATH, HOME: '/nonexistent', DPM_HTTP_PORT: String(settingsPort) } }, (err, _stdout, stderr) => {
        resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr })
      })
    })
    assert.equal(fromSettings.code, 1)
    assert.match(fromSettings.stderr, new RegExp(`^dpm status: no node answers at http://127\\.0\\.0\\.1:${settingsPort} `))
    assert.equal(fromSettings.stderr.trimEnd().split('\n').length, 1)

    const badFlag = await dpmStatus(['--bogus'])
    assert.equal(badFlag.code, 2)
  })
  it('answers a method one of its own paths does not take with a 405 that says which it takes, and an unknown path with a 404', async () => {
    const refused: Array<[method: string, path: string, allow: string]> = [
      ['POST', '/-/health', 'GET, HEAD'],
      ['DELETE', '/-/metrics', 'GET, HEAD'],
      ['PUT', '/-/api/status', 'GET, HEAD'],
      ['PATCH', '/-/api/pins', 'GET, HEAD, POST, DELETE'],
      ['GET', '/-/api/gc', 'POST'],
      ['GET', '/-/api/repos/some-repo', 'DELETE'],
      ['OPTIONS', '/-/api/repos/update', 'POST'],
      ['POST', '/', 'GET, HEAD']
    ]
    for (const [method, path, allow] of refused) {
      const res = await fetch(`${t.url}${path}`, { method })
      assert.equal(res.status, 405, `${method} ${path}`)
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`)
      assert.match((await res.json() as { error: string }).error, new RegExp(`^${method} is not allowed`), `${method} ${path}`)
    }
    for (const [method, path] of [['GET', '/-/health'], ['HEAD', '/-/health'], ['GET', '/-/api/pins'], ['HEAD', '/']]) {
      const res = await fetch(`${t.url}${path}`, { method })
      await res.arrayBuffer()
      assert.equal(res.status, 200, `${method} ${path}`)
    }
    for (const [method, path] of [['POST', '/-/nothing-here'], ['GET', '/-/api/nothing-here']]) {
      const res = await fetch(`${t.url}${path}`, { method })
      assert.equal(res.status, 404, `${method} ${path}`)
      assert.deepEqual(await res.json(), { error: 'not found' })
    }
    // a path that resolves to the dashboard's `/` is the format's to judge, as sent: npm's read-only 405, not the dashboard's
    const dotted = await rawRequest(t.url, '/npm/..', { method: 'POST' })
    assert.equal(dotted.status, 405)
    assert.match(JSON.parse(dotted.body).error, /read-only mirror/)
  })
})

