import type { Hono } from 'hono'
import type { Catalog } from '../catalog/catalog.ts'
import { BadRequestError } from '../errors.ts'
import type { IndexRecord } from '../index/index-record.ts'
import { MAX_RESULTS } from '../index/search-cached.ts'
import type { NodeStatus } from '../node/node-status.ts'
import { searchBoth } from './search-both.ts'

export interface StatusApiComponents {
  status(): Promise<NodeStatus>
  index: { all(): AsyncIterable<IndexRecord> }
  /** The package catalog; without one, the search answers cached records only. */
  catalog?: Pick<Catalog, 'search'>
}

/**
 * `GET /-/api/status` (the node's facts, see `NodeStatus`) and
 * `GET /-/api/search?q=GLOB[&limit=N]` (`q` left out is `*`): the catalog's
 * packages whose name matches (`packages`: name, versions sorted by version,
 * from; `suggestions` when none does) and what this node has cached whose key
 * matches (`cached`, `truncated` as before).
 */
export function mountStatusApi (app: Hono, components: StatusApiComponents): void {
  const noStore = { 'cache-control': 'no-store' }
  app.get('/-/api/status', async (c) => c.json(await components.status(), 200, noStore))
  app.get('/-/api/search', async (c) => {
    const given = c.req.queries('q')
    if (given !== undefined && given.length > 1) return c.json({ error: 'give q once' }, 400)
    const limit = c.req.query('limit')
    if (limit !== undefined && (!/^[1-9]\d{0,5}$/.test(limit) || Number(limit) > 100_000)) return c.json({ error: 'limit: expected a number of packages from 1 to 100000' }, 400)
    try {
      return c.json(await searchBoth(components, given?.[0] ?? '*', { limit: limit === undefined ? MAX_RESULTS : Number(limit) }), 200, noStore)
    } catch (err) {
      if (err instanceof BadRequestError) return c.json({ error: err.message }, 400)
      throw err
    }
  })
}
