import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join, normalize } from 'node:path'

/** A plain static file server on loopback, as one would put in front of a repository directory. */
export interface StaticFiles {
  /** `http://127.0.0.1:PORT/` */
  url: string
  /** Switched off, it drops every connection (a repository that is down). */
  up: boolean
  /** Paths requested, in order. */
  requests: string[]
  /** How many conditional requests were answered 304. */
  notModified: number
  close(): Promise<void>
}

/**
 * Serves `root` with `ETag` and `Last-Modified`, answering conditional requests
 * with 304, like nginx's static module; nothing outside `root`.
 */
export async function startStaticFiles (root: string): Promise<StaticFiles> {
  const sockets = new Set<Socket>()
  const files: StaticFiles = { url: '', up: true, requests: [], notModified: 0, close: async () => {} }
  const server: Server = createServer((req, res) => {
    if (!files.up) { req.socket.destroy(); return }
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!)
    files.requests.push(path)
    const file = normalize(join(root, path))
    if (!file.startsWith(root)) { res.writeHead(403).end(); return }
    stat(file).then((s) => {
      if (!s.isFile()) { res.writeHead(404).end(); return }
      const etag = `"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`
      const lastModified = s.mtime.toUTCString()
      if (req.headers['if-none-match'] === etag) { files.notModified++; res.writeHead(304, { etag, 'last-modified': lastModified }).end(); return }
      res.writeHead(200, { 'content-length': s.size, etag, 'last-modified': lastModified, 'content-type': 'application/octet-stream' })
      if (req.method === 'HEAD') { res.end(); return }
      createReadStream(file).pipe(res)
    }, () => { res.writeHead(404).end() })
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
