import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join, normalize } from 'node:path'

export interface SeenRequest { path: string, ifNoneMatch?: string, ifModifiedSince?: string, status: number }

/**
 * A plain static file server on loopback that answers conditional requests as
 * nginx does (a content ETag, Last-Modified, 304 on a match) and remembers each
 * request with the validators it carried and the status it got.
 */
export interface ConditionalFiles {
  /** `http://127.0.0.1:PORT/` */
  url: string
  requests: SeenRequest[]
  /** Path → bytes served in place of the file (a repository answering garbage). */
  override: Map<string, Uint8Array>
  close(): Promise<void>
}

export async function startConditionalFiles (root: string): Promise<ConditionalFiles> {
  const sockets = new Set<Socket>()
  const files: ConditionalFiles = { url: '', requests: [], override: new Map(), close: async () => {} }
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!)
    const seen: SeenRequest = { path, status: 0, ...(req.headers['if-none-match'] === undefined ? {} : { ifNoneMatch: req.headers['if-none-match'] }), ...(req.headers['if-modified-since'] === undefined ? {} : { ifModifiedSince: req.headers['if-modified-since'] }) }
    files.requests.push(seen)
    const answer = (status: number, headers: Record<string, string | number> = {}, body?: Uint8Array): void => {
      seen.status = status
      res.writeHead(status, headers).end(req.method === 'HEAD' ? undefined : body)
    }
    const file = normalize(join(root, path))
    if (!file.startsWith(root)) { answer(403); return }
    const bytes = files.override.has(path) ? Promise.resolve(files.override.get(path)!) : stat(file).then(async (s) => s.isFile() ? await readFile(file) : undefined)
    bytes.then((body) => {
      if (body === undefined) { answer(404); return }
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`
      const lastModified = new Date(Math.floor(Date.now() / 1000) * 1000).toUTCString()
      if (req.headers['if-none-match'] === etag) { answer(304, { etag }); return }
      answer(200, { 'content-length': body.byteLength, etag, 'last-modified': lastModified, 'content-type': 'application/octet-stream' }, body)
    }, () => { answer(404) })
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
