import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BUILDER = fileURLToPath(new URL('./make_pypi_index.py', import.meta.url))

export interface PypiProject { name: string, version: string, requires?: string[], requires_python?: string, /** PEP 592: the reason it was yanked. */ yanked?: string }

/**
 * A static Python package index as PyPI lays one out: simple pages on one host,
 * files on another. Real wheels, built by `make_pypi_index.py`; plain files served
 * as they are, the way a static web server would.
 */
export interface StaticPypi {
  /** `http://127.0.0.1:PORT/simple/` */
  indexUrl: string
  /** Which forms the index answers: both (by `Accept`), or only one, as some indexes do. */
  forms: 'both' | 'html' | 'json'
  /** Switched off, both hosts drop every connection. */
  up: boolean
  /** Paths requested of either host, in order. */
  requests: string[]
  /** The file's name → other bytes served in its place. */
  tampered: Map<string, Uint8Array>
  /** Names of the files the index lists (wheels and their `.metadata`). */
  files(): Promise<string[]>
  close(): Promise<void>
}

export async function startStaticPypi (spec: { projects?: PypiProject[], wheels?: string[] }): Promise<StaticPypi> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-pypi-'))
  const servers: Server[] = []
  const pypi: StaticPypi = {
    indexUrl: '',
    forms: 'both',
    up: true,
    requests: [],
    tampered: new Map(),
    async files () {
      const { readdir } = await import('node:fs/promises')
      return await readdir(join(dir, 'files'))
    },
    async close () {
      for (const server of servers) {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      }
      await rm(dir, { recursive: true, force: true })
    }
  }

  const listen = async (handle: (path: string, accept: string) => Promise<{ status: number, type?: string, body?: Uint8Array }>): Promise<string> => {
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
      pypi.requests.push(path)
      if (!pypi.up) { req.socket.destroy(); return }
      handle(path, req.headers.accept ?? '').then(({ status, type, body }) => {
        res.writeHead(status, type === undefined ? {} : { 'content-type': type, 'content-length': body?.byteLength ?? 0 })
        res.end(body)
      }, () => { res.writeHead(404).end() })
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  }

  const filesBase = await listen(async (path) => {
    const name = path.match(/^\/files\/([^/]+)$/)?.[1]
    if (name === undefined) return { status: 404 }
    return { status: 200, type: 'application/octet-stream', body: pypi.tampered.get(name) ?? await readFile(join(dir, 'files', name)) }
  })
  execFileSync('/usr/bin/python3', [BUILDER, dir, filesBase], { input: JSON.stringify(spec) })

  const indexBase = await listen(async (path, accept) => {
    const page = path.match(/^\/simple\/(?:([^/]+)\/)?$/)
    if (page === null) return { status: 404 }
    const json = pypi.forms === 'json' || (pypi.forms === 'both' && accept.includes('application/vnd.pypi.simple.v1+json'))
    const file = join(dir, 'simple', page[1] ?? '', json ? 'index.json' : 'index.html')
    return { status: 200, type: json ? 'application/vnd.pypi.simple.v1+json' : 'text/html', body: await readFile(file) }
  })
  pypi.indexUrl = `${indexBase}simple/`
  return pypi
}
