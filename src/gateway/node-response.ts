import type { HttpBindings } from '@hono/node-server'
import type { Context } from 'hono'
import type { ServerResponse } from 'node:http'

/** Node's own response under Hono's, when the gateway runs on Node's HTTP server (not under `app.request`). */
export function nodeResponse (c: Context): ServerResponse | undefined {
  return (c.env as Partial<HttpBindings> | undefined)?.outgoing
}

