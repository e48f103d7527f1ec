import { timingSafeEqual } from 'node:crypto'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { MiddlewareHandler } from 'hono'

/**
 * Guards the admin API's mutating endpoints (POST, PUT, DELETE under `/-/api/`):
 * with `DPM_ADMIN_TOKEN` set, a request must carry it as a bearer token; without
 * one, only loopback callers are let in, so a node is managed from its own host
 * (or a container's) unless its operator chose a token. Reads pass unguarded.
 */
export function adminGuard (token: string | undefined): MiddlewareHandler {
  const expected = token === undefined ? undefined : Buffer.from(token)
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    if (expected !== undefined) {
      const given = Buffer.from(/^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '')
      if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) {
        return c.json({ error: 'this admin endpoint needs `Authorization: Bearer <DPM_ADMIN_TOKEN>`' }, 401, { 'www-authenticate': 'Bearer realm="dpm"' })
      }
      return next()
    }
    if (!isLoopback(getConnInfo(c).remote.address)) {
      return c.json({ error: 'without DPM_ADMIN_TOKEN set, admin endpoints accept only loopback callers' }, 403)
    }
    return next()
  }
}

function isLoopback (address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'))
}
