import type { Hono } from 'hono'
import { isSafeName } from './key-paths.ts'
import { listTree, type TreeComponents } from './tree-listing.ts'

/**
 * `GET /-/api/tree?dir=npm/lodash/-` answers `{ entries: [{ name, type, size?, mtime?, artifact? }] }`:
 * what the mounted tree shows in that directory (decoded segments joined by `/`,
 * empty for the root). The mount asks here so that `dpm mount --url` works
 * against any node, in this process or another.
 */
export function mountTreeApi (app: Hono, components: TreeComponents): void {
  app.get('/-/api/tree', async (c) => {
    const given = c.req.query('dir') ?? ''
    const dir = given === '' ? [] : given.split('/')
    if (given.length > 4096 || !dir.every(isSafeName)) return c.json({ error: 'dir: decoded path segments joined by "/", none empty, "." or ".."' }, 400)
    return c.json({ entries: await listTree(components, dir) }, 200, { 'cache-control': 'no-store' })
  })
}
