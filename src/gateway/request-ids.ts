import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import type { Context, MiddlewareHandler } from 'hono'
import { requestId } from 'hono/request-id'

/**
 * Every request gets an id: the caller's own `X-Request-Id` when it sends a
 * sane one (a proxy in front may have set it), else a new UUID. It goes back
 * in the response's `X-Request-Id` and into every log line about the request,
 * so one failed download can be found among thousands. (Hono's middleware sets
 * the header only on responses made through the context; handlers here build
 * their own, and artifact bodies are written past Hono: `serve-format.ts`.)
 */
export function requestIds (): MiddlewareHandler {
  const assign = requestId()
  return async (c, next) => {
    await assign(c, async () => {
      await next()
      if (c.res !== RESPONSE_ALREADY_SENT && !c.res.headers.has('x-request-id')) c.res.headers.set('x-request-id', requestIdOf(c)!)
    })
  }
}

export function requestIdOf (c: Context): string | undefined {
  return (c.get as (key: string) => unknown)('requestId') as string | undefined
}
