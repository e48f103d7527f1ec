import type { FormatMount } from '../pull/format-mount.ts'

/** `http://host[:port]/path…` as a proxy client writes its request target, kept raw: `%2b` and `..` reach the format as sent. */
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/i

/**
 * A request in absolute form (`GET http://deb.debian.org/debian/dists/… HTTP/1.1`),
 * as apt sends it to `Acquire::http::Proxy`, becomes the path of the mount whose
 * upstream it names (`/apt/debian/dists/…`). Anything else gives `undefined`: a
 * node proxies only the upstreams its settings name, never the network it runs in.
 */
export function proxiedPath (target: string, mounts: FormatMount[]): string | undefined {
  const parts = ABSOLUTE_FORM.exec(target)
  if (parts === null) return undefined
  const [, host = '', path = '/', query = ''] = parts
  for (const { adapter, upstream } of mounts) {
    const base = new URL(upstream)
    if (base.host.toLowerCase() !== host.toLowerCase() && `${base.hostname}:${defaultPort(base.protocol)}` !== host.toLowerCase()) continue
    if (path.startsWith(base.pathname)) return `${adapter.prefix}/${path.slice(base.pathname.length)}${query}`
  }
  return undefined
}

const defaultPort = (protocol: string): string => protocol === 'https:' ? '443' : '80'
