import type { Context } from 'hono'
import type { IncomingMessage } from 'node:http'

/**
 * The request path exactly as the client sent it. URL parsing would resolve
 * `%2e%2e` and `..` before a format adapter could refuse them, and formats need
 * to see encodings such as npm's `@scope%2fname` or apt's `%2b` untouched.
 */
export function rawPath (c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  const target = incoming?.url ?? new URL(c.req.url).pathname
  const end = target.indexOf('?')
  return end === -1 ? target : target.slice(0, end)
}

/**
 * Whether the path was routed as sent: false for one whose dot segments URL
 * parsing resolved (`/npm/..` reaches the dashboard's `/`), which the
 * not-found handler lets the format it was sent under judge.
 */
export function routedAsSent (c: Context): boolean {
  const sent = rawPath(c)
  return URL.parse(sent, 'http://node')?.pathname === sent
}
