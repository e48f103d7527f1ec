import type { IncomingMessage, ServerResponse } from 'node:http'
import { BadRequestError } from '../errors.ts'
import { mountAt, type FormatMount } from '../pull/format-mount.ts'

/** A Host as clients send it: a name or IPv4 address, and maybe a port. Anything else must read back as itself. */
const ORDINARY_HOST = /^[a-z0-9.-]+(:\d{1,5})?$/i

/**
 * HTTP/1.1 has a server refuse a request whose Host it cannot read (RFC 9112
 * §3.2), and the gateway could not even build such a request to route it. The
 * refusal goes out here, in the shape of the format the path names, as every
 * other error does. A Host it can read is passed on as a URL parser reads it
 * (`0:4873` as `0.0.0.0:4873`), the form the gateway's request parser accepts.
 * `true` when it answered.
 */
export function refuseBadHost (req: IncomingMessage, res: ServerResponse, mounts: FormatMount[]): boolean {
  const host = req.headers.host
  const read = host === undefined ? undefined : hostAsRead(host)
  if (read !== undefined) {
    req.headers.host = read
    return false
  }
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
 * `host` as a URL parser reads it, when that is the host that was sent:
 * undefined for one no parser reads (`.0`, `1.2.3.4.5`, a port above 65535,
 * each made of a name's characters), or one it reads as another host (a `/`,
 * `@` or space turning part of it into a path or a user).
 */
function hostAsRead (host: string): string | undefined {
  let url
  try {
    url = new URL(`http://${host}/`)
  } catch {
    return undefined
  }
  return ORDINARY_HOST.test(host) || url.hostname === host.replace(/:\d+$/, '').toLowerCase() ? url.host : undefined
}
