import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { runDpm } from '../helpers/run-dpm.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'
import { freePort } from '../helpers/free-port.ts'

const TOKEN = 'the-admin-token-of-this-node'

/** `dpm pin`, `dpm unpin` and `dpm gc` as a user runs them against a node that has an admin token. */
describe('dpm pin, unpin and gc', () => {
  let upstream: FakeNpmRegistry
  let dpm: TestNode
  const tgz = '/npm/kept/-/kept-1.0.0.tgz'
  const as = (token?: string): Record<string, string> => token === undefined ? {} : { DPM_ADMIN_TOKEN: token }

  before(async () => {
    upstream = await startFakeNpmRegistry()
    upstream.publish('kept', { version: '1.0.0', tarball: randomBytes(50_000) })
    dpm = await startTestNode({ npmUpstream: upstream.url, settings: { admin_token: TOKEN } })
  })
  after(async () => {
    await dpm?.destroy()
    await upstream?.close()
  })

  it('pins a path that was never fetched: fetched through the node, then pinned; lists and unpins it', async () => {
    const pin = await runDpm(['pin', '--url', dpm.url, tgz], as(TOKEN))
    assert.equal(pin.code, 0, pin.stderr)
    assert.equal(pin.stdout, `pinned ${tgz} (npm:tarball:kept/-/kept-1.0.0.tgz)\n`)
    assert.equal(upstream.count('/kept/-/kept-1.0.0.tgz'), 1, 'pin fetched it through the node')
    assert.equal((await fetch(`${dpm.url}${tgz}`)).headers.get('x-cache'), 'HIT')

    const list = await runDpm(['pin', '--url', dpm.url])
    assert.deepEqual([list.code, list.stdout], [0, 'npm:tarball:kept/-/kept-1.0.0.tgz\n'])

    const unpin = await runDpm(['unpin', '--url', dpm.url, tgz], as(TOKEN))
    assert.deepEqual([unpin.code, unpin.stdout], [0, `unpinned ${tgz} (npm:tarball:kept/-/kept-1.0.0.tgz)\n`])
    assert.deepEqual([(await runDpm(['pin', '--url', dpm.url])).stdout], ['nothing is pinned\n'])
  })

  it('collects on demand and says what it did', async () => {
    const gc = await runDpm(['gc', '--url', dpm.url], as(TOKEN))
    assert.equal(gc.code, 0, gc.stderr)
    assert.match(gc.stdout, /^0 evicted, \d+ blocks deleted, .* freed; store .* of 50 GB\n$/)
    const json = JSON.parse((await runDpm(['gc', '--url', dpm.url, '--json'], as(TOKEN))).stdout)
    assert.equal(json.limitBytes, 50 * 1024 ** 3)
    assert.equal(json.overLimit, false)
  })

  it('fails with one line and exit 1 for the wrong token, a path it cannot fetch, or no node; exit 2 for bad usage', async () => {
    const wrong = await runDpm(['gc', '--url', dpm.url], as('not-the-token-at-all'))
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /^dpm gc: POST \/-\/api\/gc: this admin endpoint needs `Authorization: Bearer <DPM_ADMIN_TOKEN>`\n$/)

    const missing = await runDpm(['pin', '--url', dpm.url, '/npm/absent/-/absent-1.0.0.tgz', tgz], as(TOKEN))
    assert.equal(missing.code, 1, 'one of two failed')
    assert.match(missing.stderr, /^dpm pin: \/npm\/absent\/-\/absent-1\.0\.0\.tgz: the node answered 404 when fetching it\n$/)
    assert.match(missing.stdout, /^pinned \/npm\/kept/, 'the other was still pinned')

    const relative = await runDpm(['pin', '--url', dpm.url, 'npm/kept'], as(TOKEN))
    assert.match(relative.stderr, /expected a gateway path starting with \//)

    const nobody = await runDpm(['gc', '--url', `http://127.0.0.1:${await freePort()}`])
    assert.equal(nobody.code, 1)
    assert.match(nobody.stderr, /^dpm gc: no node answers at http:\/\/127\.0\.0\.1:\d+ .*is `dpm start` running there\?/)

    assert.equal((await runDpm(['unpin', '--url', dpm.url])).code, 2)
    assert.equal((await runDpm(['gc', '--bogus'])).code, 2)
  })
})
