import type { HttpBindings } from '@hono/node-server'
import type { Context } from 'hono'
import type { ServerResponse } from 'node:http'

/** Node's own response under Hono's, when the gateway runs on Node's HTTP server (not under `app.request`). */
export function nodeResponse (c: Context): ServerResponse | undefined {
  return (c.env as Partial<HttpBindings> | undefined)?.outgoing
}

/** Status and headers of a response written past Hono, set one by one (not passed to writeHead): only so can the access log read them back. */
export function writeHeaders (outgoing: ServerResponse, status: number, headers: Headers): void {
  for (const [name, value] of headers) outgoing.setHeader(name, value)
  outgoing.writeHead(status)
}

