import type { Context } from 'hono'
import { DpmError } from '../errors.ts'

/**
 * An admin API handler's JSON answer, or `{error}` with the status a DpmError
 * carries; anything else (a 500 included) goes on to the gateway's own handler,
 * which answers without details.
 */
export function jsonAnswer (handle: (c: Context) => Promise<unknown>, init: { status?: number, headers?: Record<string, string> } = {}) {
  return async (c: Context): Promise<Response> => {
    try {
      return c.json(await handle(c), (init.status ?? 200) as 200, init.headers)
    } catch (err) {
      if (err instanceof DpmError && err.status !== 500) return c.json({ error: err.message }, err.status as 400)
      throw err
    }
  }
}
