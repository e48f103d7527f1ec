import { randomBytes } from 'node:crypto'
import type { Hono } from 'hono'
import { BadRequestError } from '../../errors.ts'
import type { IndexRecord } from '../../index/index-record.ts'
import type { Catalog } from '../../catalog/catalog.ts'
import type { NodeStatus } from '../../node/node-status.ts'
import { dashboardPage } from './page.ts'
import type { SearchState } from './search-section.ts'
import { routedAsSent } from '../raw-path.ts'
import { searchBoth } from '../search-both.ts'

/** `GET /`: the dashboard, server-rendered; `/?q=GLOB` adds the search's results. */
export function mountDashboard (app: Hono, components: { status(): Promise<NodeStatus>, index: { all(): AsyncIterable<IndexRecord> }, catalog?: Pick<Catalog, 'search'> }): void {
  app.get('/', async (c) => {
    // `/npm/..` arrives here resolved to `/`: the gateway's fallback lets the format judge it as sent
    if (!routedAsSent(c)) return c.notFound()
    const given = c.req.queries('q') ?? []
    const query = given[0] ?? ''
    let search: SearchState = { query: '' }
    if (given.length > 1) search = { query, error: 'give q once' }
    else if (query !== '') {
      try {
        search = { query, answer: await searchBoth(components, query) }
      } catch (err) {
        if (!(err instanceof BadRequestError)) throw err
        search = { query: query.slice(0, 200), error: err.message }
      }
    }
    const nonce = randomBytes(16).toString('base64')
    return c.html(dashboardPage(await components.status(), search, nonce), 'error' in search ? 400 : 200, {
      'cache-control': 'no-store',
      'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      'x-content-type-options': 'nosniff'
    })
  })
}
