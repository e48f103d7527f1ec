import type { Context, Hono } from 'hono'
import { routedAsSent } from './raw-path.ts'

/**
 * Each of the node's own paths routed so far (`/-/health`, `/-/api/pins`, ...)
 * answers a method it does not take with a 405 that lists those it does in
 * `Allow` (RFC 9110 §15.5.6), not with the 404 of a path that is not there.
 * HEAD goes with GET, as Hono serves it. Call once every such route is in.
 */
export function refuseOtherMethods (app: Hono): void {
  const methods = new Map<string, Set<string>>()
  for (const { method, path } of app.routes) {
    if (method === 'ALL') continue // middleware: it runs for every method
    const taken = methods.get(path) ?? new Set<string>()
    taken.add(method)
    if (method === 'GET') taken.add('HEAD')
    methods.set(path, taken)
  }
  for (const [path, taken] of methods) {
    const allow = [...taken].join(', ')
    app.all(path, (c: Context) => {
      if (!routedAsSent(c)) return c.notFound()
      return c.json({ error: `${c.req.method} is not allowed on ${c.req.path}: it takes ${allow}` }, 405, { allow })
    })
  }
}
