import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import type { Context, MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
import type { Activity } from '../node/activity.ts'
import type { Metrics } from '../node/metrics.ts'
import { nodeResponse } from './node-response.ts'
import { requestIdOf } from './request-ids.ts'

/** One `info` line per request, the response counter by format and X-Cache, and the dashboard's recent fetches. */
export function accessLog (components: { log: Logger, metrics: Metrics, activity?: Activity, formatOf(path: string): string }): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now()
    await next()
    const { status, cache } = outcome(c)
    const format = components.formatOf(c.req.path)
    components.metrics.responses.inc({ format, cache: cache ?? 'none', status: String(status) })
    const ms = Math.round(performance.now() - started)
    if (cache !== undefined) components.activity?.record({ format, method: c.req.method, path: c.req.path, status, cache, ms })
    components.log.info({
      id: requestIdOf(c),
      method: c.req.method,
      path: c.req.path,
      status,
      cache,
      ms
    }, 'request')
  }
}

/** The status and X-Cache sent: a response the handler wrote to Node itself (`send-artifact.ts`) has them on Node's side. */
function outcome (c: Context): { status: number, cache?: string } {
  const outgoing = nodeResponse(c)
  if (outgoing !== undefined && c.res === RESPONSE_ALREADY_SENT) {
    const cache = outgoing.getHeader('x-cache')
    return { status: outgoing.statusCode, cache: cache === undefined ? undefined : String(cache) }
  }
  return { status: c.res.status, cache: c.res.headers.get('x-cache') ?? undefined }
}
