import type { IncomingMessage, ServerResponse } from 'node:http'
import { BadRequestError } from '../errors.ts'
import { mountAt, type FormatMount } from '../pull/format-mount.ts'

/** A Host as clients send it: a name or IPv4 address, and maybe a port. Anything else must parse back to itself. */
const ORDINARY_HOST = /^[a-z0-9.-]+(:\d{1,5})?$/i

/**
 * HTTP/1.1 has a server refuse a request whose Host it cannot read (RFC 9112
 * §3.2), and the gateway could not even build such a request to route it. The
 * refusal goes out here, in the shape of the format the path names, as every
 * other error does. `true` when it answered.
 */
export function refuseBadHost (req: IncomingMessage, res: ServerResponse, mounts: FormatMount[]): boolean {
  const host = req.headers.host
  if (host !== undefined && readable(host)) return false
  const error = new BadRequestError(host === undefined || host === '' ? 'the request has no Host header' : `the Host header "${host.slice(0, 64)}" names no host`)
  const [path = '/', query = ''] = (req.url ?? '/').split('?', 2)
  const mount = mountAt(mounts, path)
  const rendered = mount === undefined
    ? { status: error.status, contentType: 'application/json', body: JSON.stringify({ error: error.message }) }
    : mount.adapter.renderError(error, { method: req.method ?? 'GET', path: path.slice(mount.adapter.prefix.length) || '/', query: new URLSearchParams(query), headers: new Headers() })
  res.writeHead(rendered.status, { ...rendered.headers, 'content-type': rendered.contentType }).end(rendered.body)
  return true
}

/**
 * The gateway's URL parser accepts `host` (ordinary characters are not enough:
 * `.0`, `1.2.3.4.5` and a port above 65535 are refused by it), and reads back
 * the host that was sent, not one a `/`, `@` or space made of part of it.
 */
function readable (host: string): boolean {
  try {
    const { hostname } = new URL(`http://${host}/`)
    return ORDINARY_HOST.test(host) || hostname === host.replace(/:\d+$/, '').toLowerCase()
  } catch {
    return false
  }
}
