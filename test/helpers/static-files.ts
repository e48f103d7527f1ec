import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join, normalize } from 'node:path'

/** A request as the server saw it: the validators it carried and the status it got. */
export interface SeenRequest { path: string, ifNoneMatch?: string, ifModifiedSince?: string, status: number }

/** A plain static file server on loopback, as one would put in front of a repository directory. */
export interface StaticFiles {
  /** `http://127.0.0.1:PORT/` */
  url: string
  /** Switched off, it drops every connection (a repository that is down). */
  up: boolean
  /** Every request, in order. */
  requests: SeenRequest[]
  /** How many conditional requests were answered 304. */
  notModified: number
  /** Path → bytes served in place of the file (a repository answering garbage). */
  override: Map<string, Uint8Array>
  close(): Promise<void>
}

/**
 * Serves `root` with `ETag` and `Last-Modified`, answering a matching
 * `If-None-Match` with 304, like nginx's static module; nothing outside `root`.
 */
export async function startStaticFiles (root: string): Promise<StaticFiles> {
  const sockets = new Set<Socket>()
  const files: StaticFiles = { url: '', up: true, requests: [], notModified: 0, override: new Map(), close: async () => {} }
  const server: Server = createServer((req, res) => {
    if (!files.up) { req.socket.destroy(); return }
    const seen = seenRequest(req)
    files.requests.push(seen)
    const head = (status: number, headers: Record<string, string | number> = {}): void => {
      seen.status = status
      res.writeHead(status, headers)
    }
    const fresh = (etag: string, lastModified: string): boolean => {
      if (req.headers['if-none-match'] !== etag) return false
      files.notModified++
      head(304, { etag, 'last-modified': lastModified })
      res.end()
      return true
    }
    const replaced = files.override.get(seen.path)
    if (replaced !== undefined) {
      const etag = `"${createHash('sha256').update(replaced).digest('hex').slice(0, 16)}"`
      const lastModified = new Date(Math.floor(Date.now() / 1000) * 1000).toUTCString()
      if (fresh(etag, lastModified)) return
      head(200, { 'content-length': replaced.byteLength, etag, 'last-modified': lastModified, 'content-type': 'application/octet-stream' })
      res.end(req.method === 'HEAD' ? undefined : replaced)
      return
    }
    const file = normalize(join(root, seen.path))
    if (!file.startsWith(root)) { head(403); res.end(); return }
    stat(file).then((s) => {
      if (!s.isFile()) { head(404); res.end(); return }
      const etag = `"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`
      const lastModified = s.mtime.toUTCString()
      if (fresh(etag, lastModified)) return
      head(200, { 'content-length': s.size, etag, 'last-modified': lastModified, 'content-type': 'application/octet-stream' })
      if (req.method === 'HEAD') { res.end(); return }
      createReadStream(file).pipe(res)
    }, () => { head(404); res.end() })
  })
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  files.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  files.close = async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
  return files
}

function seenRequest (req: IncomingMessage): SeenRequest {
  const { 'if-none-match': ifNoneMatch, 'if-modified-since': ifModifiedSince } = req.headers
  return {
    path: decodeURIComponent((req.url ?? '/').split('?')[0]!),
    status: 0,
    ...(ifNoneMatch === undefined ? {} : { ifNoneMatch }),
    ...(ifModifiedSince === undefined ? {} : { ifModifiedSince })
  }
}
