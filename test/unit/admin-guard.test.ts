import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Hono } from 'hono'
import { adminGuard } from '../../src/gateway/admin-guard.ts'

/** The guard as the gateway mounts it, asked as if from a given address (what @hono/node-server passes as `incoming`). */
function guarded (token?: string): (method: string, from: string, authorization?: string) => Promise<number> {
  const app = new Hono()
  app.use('/-/api/*', adminGuard(token))
  app.all('/-/api/gc', (c) => c.json({ ok: true }))
  return async (method, from, authorization) => {
    const res = await app.request('/-/api/gc', { method, headers: authorization === undefined ? {} : { authorization } }, { incoming: { socket: { remoteAddress: from, remotePort: 1, remoteFamily: from.includes(':') ? 'IPv6' : 'IPv4' } } })
    return res.status
  }
}

describe('the admin guard', () => {
  it('without a token: mutations from loopback only, reads from anywhere', async () => {
    const ask = guarded()
    for (const from of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(await ask('POST', from), 200, from)
    for (const from of ['10.0.0.5', '192.168.1.2', '::ffff:10.0.0.5', 'fe80::1', '128.0.0.1']) assert.equal(await ask('POST', from), 403, from)
    assert.equal(await ask('DELETE', '10.0.0.5'), 403)
    assert.equal(await ask('GET', '10.0.0.5'), 200)
  })

  it('with a token: mutations need exactly it, from anywhere', async () => {
    const ask = guarded('sixteen-chars-or-more')
    assert.equal(await ask('POST', '10.0.0.5', 'Bearer sixteen-chars-or-more'), 200)
    assert.equal(await ask('POST', '127.0.0.1'), 401, 'loopback is no longer enough')
    for (const bad of ['Bearer sixteen-chars-or-mor', 'Bearer sixteen-chars-or-more!', 'Basic c2l4dGVlbg==', 'sixteen-chars-or-more', 'Bearer ']) {
      assert.equal(await ask('POST', '10.0.0.5', bad), 401, bad)
    }
    assert.equal(await ask('GET', '10.0.0.5'), 200)
  })
})
