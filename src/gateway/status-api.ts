import type { Hono } from 'hono'
import { BadRequestError } from '../errors.ts'
import type { IndexRecord } from '../index/index-record.ts'
import { searchCached } from '../index/search-cached.ts'
import type { NodeStatus } from '../node/node-status.ts'

export interface StatusApiComponents {
  status(): Promise<NodeStatus>
  index: { all(): AsyncIterable<IndexRecord> }
}

/**
 * `GET /-/api/status` (the node's facts, see `NodeStatus`) and
 * `GET /-/api/search?q=GLOB` (what this node has cached; `q` left out is `*`).
 */
export function mountStatusApi (app: Hono, components: StatusApiComponents): void {
  const noStore = { 'cache-control': 'no-store' }
  app.get('/-/api/status', async (c) => c.json(await components.status(), 200, noStore))
  app.get('/-/api/search', async (c) => {
    const given = c.req.queries('q')
    if (given !== undefined && given.length > 1) return c.json({ error: 'give q once' }, 400)
    try {
      return c.json(await searchCached(components, given?.[0] ?? '*'), 200, noStore)
    } catch (err) {
      if (err instanceof BadRequestError) return c.json({ error: err.message }, 400)
      throw err
    }
  })
}
