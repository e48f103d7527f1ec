import { Hono } from 'hono'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.ts'
import type { Activity } from '../node/activity.ts'
import type { Metrics } from '../node/metrics.ts'
import type { NodeStatus } from '../node/node-status.ts'
import type { LocalIndex } from '../index/local-index.ts'
import { mountAt, type FormatMount } from '../pull/format-mount.ts'
import type { Listings } from '../pull/listings.ts'
import { mountTreeApi } from '../mount/tree-api.ts'
import { accessLog } from './access-log.ts'
import { adminGuard } from './admin-guard.ts'
import { mountDashboard } from './dashboard/route.ts'
import type { Health } from './health.ts'
import { rawPath } from './raw-path.ts'
import { refuseOtherMethods } from './refuse-other-methods.ts'
import { requestIdOf, requestIds } from './request-ids.ts'
import { serveFormat, type ServeFormatComponents } from './serve-format.ts'
import { mountReposApi } from './repos-api.ts'
import { mountStatusApi } from './status-api.ts'
import { mountStoreApi, type StoreApiComponents } from './store-api.ts'

export interface GatewayComponents extends ServeFormatComponents {
  mounts: FormatMount[]
  metrics: Metrics
  log: Logger
  health(): Health
  /** The dashboard's and `/-/api/status`'s facts, and the records its search reads. */
  status?(): Promise<NodeStatus>
  activity?: Activity
  index?: Pick<LocalIndex, 'all' | 'get'>
  /** The bounded store's admin endpoints (pins, collection). */
  store?: Omit<StoreApiComponents, 'mounts' | 'index'>
  /** `DPM_ADMIN_TOKEN`: mutating `/-/api/` calls need it; without one, only loopback callers may make them. */
  adminToken?: string
  /** The package catalog: `/-/api/repos`, and the packages `/-/api/search` and the dashboard find. */
  catalog?: Catalog
  /** What the listings name (apt pool files): the mounted tree's `/-/api/tree` shows them. */
  listings?: Pick<Listings, 'list'>
}

/** The node's HTTP face: each format under its prefix, plus the node's own `/-/` endpoints. */
export function createGateway (components: GatewayComponents): Hono {
  const app = new Hono()
  const formatOf = (path: string): string => mountAt(components.mounts, path)?.adapter.name ?? 'node'

  app.use(requestIds())
  app.use(accessLog({ ...components, formatOf }))
  app.use('/-/api/*', adminGuard(components.adminToken))

  app.get('/-/health', (c) => {
    const health = components.health()
    return c.json(health, health.status === 'ok' ? 200 : 503)
  })
  app.get('/-/metrics', async (c) => {
    return c.body(await components.metrics.registry.metrics(), 200, { 'content-type': components.metrics.registry.contentType })
  })

  if (components.store !== undefined && components.index !== undefined) {
    mountStoreApi(app, { ...components.store, mounts: components.mounts, index: components.index })
  }
  if (components.status !== undefined && components.index !== undefined) {
    const status = components.status
    mountStatusApi(app, { status, index: components.index, catalog: components.catalog })
    mountDashboard(app, { status, index: components.index, catalog: components.catalog })
  }
  if (components.catalog !== undefined) mountReposApi(app, { catalog: components.catalog })
  if (components.index !== undefined) mountTreeApi(app, { index: components.index, mounts: components.mounts, listings: components.listings })
  refuseOtherMethods(app)

  const formats = components.mounts.map((mount) => ({ prefix: mount.adapter.prefix, handler: serveFormat(mount, components) }))
  for (const { prefix, handler } of formats) {
    app.all(prefix, handler)
    app.all(`${prefix}/*`, handler)
  }

  app.notFound((c) => {
    // a path under a format's prefix that URL parsing resolved out of it (`/npm/%2e%2e/x`):
    // the format judges the path as sent, and answers in its own error shape
    const path = rawPath(c)
    const owner = formats.find(({ prefix }) => path === prefix || path.startsWith(`${prefix}/`))
    return owner === undefined ? c.json({ error: 'not found' }, 404) : owner.handler(c)
  })
  app.onError((err, c) => {
    components.log.error({ id: requestIdOf(c), err }, 'unhandled error')
    return c.json({ error: 'internal error' }, 500)
  })
  return app
}
