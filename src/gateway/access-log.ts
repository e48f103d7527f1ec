import type { MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
import type { Metrics } from '../node/metrics.ts'

/** One `info` line per request, and the response counter by format and X-Cache. */
export function accessLog (components: { log: Logger, metrics: Metrics, formatOf(path: string): string }): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now()
    await next()
    const cache = c.res.headers.get('x-cache') ?? undefined
    const format = components.formatOf(c.req.path)
    components.metrics.responses.inc({ format, cache: cache ?? 'none', status: String(c.res.status) })
    components.log.info({
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      cache,
      ms: Math.round(performance.now() - started)
    }, 'request')
  }
}
