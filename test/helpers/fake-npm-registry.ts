import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage, Server } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'

/** A version's tarball: bytes in memory, or a generated stream of `size` bytes that is never held whole. */
export type FakeTarball = Uint8Array | { size: number }

export interface FakeVersion {
  version: string
  tarball: FakeTarball
  /** Publish digests of other bytes than those served. */
  wrongIntegrity?: boolean
  /** Declare the full length, send half, then cut the connection. */
  truncate?: boolean
  /** More fields for the packument's version object, e.g. `dependencies`. */
  manifest?: Record<string, unknown>
}

export type UpstreamMode = 'up' | 'down' | 'error'

/**
 * A small npm registry for tests: real HTTP on loopback, packuments with
 * ETag/304, tarballs with their sha512 integrity and sha1 shasum, and a request
 * log to count what reached the upstream. `mode` switches it off ('down' resets
 * every connection) or makes it fail ('error' answers 503).
 */
export interface FakeNpmRegistry {
  url: string
  mode: UpstreamMode
  /** Tarball requests wait this long before any answer (a slow upstream). */
  tarballDelayMs: number
  /** Every request path in order of arrival. */
  requests: string[]
  count(path: string): number
  publish(name: string, version: FakeVersion): void
  tarballUrl(name: string, version: string): string
  close(): Promise<void>
}

const BLOCK = 1024 * 1024
const base = randomBytes(BLOCK)

/** Block `i` of a generated tarball: one random MiB, stamped with its index. */
function generatedBlock (i: number, length: number): Buffer {
  const block = Buffer.from(base.subarray(0, length))
  block.writeUInt32BE(i, 0)
  return block
}

/** The bytes of a generated tarball of `size` bytes, one MiB at a time. */
export async function * generateTarball (size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0, sent = 0; sent < size; i++) {
    const length = Math.min(BLOCK, size - sent)
    yield generatedBlock(i, length)
    sent += length
  }
}

function digestsOf (tarball: FakeTarball): { sha512: string, sha1: string } {
  const sha512 = createHash('sha512')
  const sha1 = createHash('sha1')
  const update = (chunk: Uint8Array): void => { sha512.update(chunk); sha1.update(chunk) }
  if (tarball instanceof Uint8Array) update(tarball)
  else for (let i = 0, sent = 0; sent < tarball.size; i++) {
    const length = Math.min(BLOCK, tarball.size - sent)
    update(generatedBlock(i, length))
    sent += length
  }
  return { sha512: sha512.digest('base64'), sha1: sha1.digest('hex') }
}

/** The bytes a generated tarball streams, for comparing what a client received. */
export function fakeTarballDigest (tarball: FakeTarball): string {
  return digestsOf(tarball).sha512
}

export async function startFakeNpmRegistry (): Promise<FakeNpmRegistry> {
  const packages = new Map<string, Map<string, FakeVersion & { integrity: string, shasum: string }>>()
  const app = new Hono()
  let url = ''
  const registry: FakeNpmRegistry = {
    url: '',
    mode: 'up',
    tarballDelayMs: 0,
    requests: [],
    count: (path) => registry.requests.filter((p) => p === path).length,
    publish (name, version) {
      const published = digestsOf(version.wrongIntegrity ? randomBytes(64) : version.tarball)
      const versions = packages.get(name) ?? new Map()
      versions.set(version.version, { ...version, integrity: `sha512-${published.sha512}`, shasum: published.sha1 })
      packages.set(name, versions)
    },
    tarballUrl: (name, version) => `${url}/${name}/-/${name.split('/').at(-1)}-${version}.tgz`,
    async close () {
      const closed = new Promise<void>((resolve) => server.close(() => { resolve() }))
      server.closeAllConnections()
      await closed
    }
  }

  app.use(async (c, next) => {
    const incoming = (c.env as { incoming: IncomingMessage }).incoming
    registry.requests.push(incoming.url ?? '')
    if (registry.mode === 'down') {
      incoming.socket.destroy()
      return new Response(null)
    }
    if (registry.mode === 'error') return c.json({ error: 'unavailable' }, 503)
    await next()
  })

  app.get('*', async (c) => {
    const path = decodeURIComponent(new URL(c.req.url).pathname.slice(1))
    const tarball = path.match(/^(.+)\/-\/[^/]+-(\d[^/]*)\.tgz$/)
    if (tarball !== null && registry.tarballDelayMs > 0) await sleep(registry.tarballDelayMs, undefined, { ref: false })
    if (tarball !== null) return serveTarball(tarball[1]!, tarball[2]!, (c.env as { incoming: IncomingMessage }).incoming, c.req.header('range'))
    const versions = packages.get(path)
    if (versions === undefined) return new Response(null, { status: 404 })
    const packument = JSON.stringify({
      name: path,
      'dist-tags': { latest: [...versions.keys()].at(-1) },
      versions: Object.fromEntries([...versions.values()].map((v) => [v.version, {
        ...v.manifest,
        name: path,
        version: v.version,
        scripts: { postinstall: 'true' },
        description: 'a package made for a test',
        dist: { tarball: registry.tarballUrl(path, v.version), integrity: v.integrity, shasum: v.shasum }
      }])),
      readme: 'A long readme that the abbreviated packument leaves out.'
    })
    const etag = `"${createHash('sha1').update(packument).digest('hex')}"`
    if (c.req.header('if-none-match') === etag) return new Response(null, { status: 304, headers: { etag } })
    return new Response(packument, { headers: { 'content-type': 'application/json', etag } })
  })

  function serveTarball (name: string, version: string, incoming: IncomingMessage, range?: string): Response {
    const v = packages.get(name)?.get(version)
    if (v === undefined) return new Response(null, { status: 404 })
    const size = v.tarball instanceof Uint8Array ? v.tarball.byteLength : v.tarball.size
    // `bytes=N-` only: what a node resuming a broken transfer asks for
    const from = Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1] ?? 0)
    const source = skip(v.tarball instanceof Uint8Array ? [v.tarball] : generateTarball(v.tarball.size), from)
    const body = v.truncate ? cutHalfway(source, size - from, incoming) : ReadableStream.from(source)
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(size - from) }
    if (from === 0) return new Response(body, { headers })
    return new Response(body, { status: 206, headers: { ...headers, 'content-range': `bytes ${from}-${size - 1}/${size}` } })
  }

  const server = createAdaptorServer({ fetch: app.fetch }) as Server
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  registry.url = url
  return registry
}

async function * skip (source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, bytes: number): AsyncGenerator<Uint8Array> {
  let skipped = 0
  for await (const chunk of source) {
    if (skipped + chunk.byteLength <= bytes) { skipped += chunk.byteLength; continue }
    yield chunk.subarray(Math.max(0, bytes - skipped))
    skipped = bytes
  }
}

/** Sends half of the declared bytes, then resets the connection. */
function cutHalfway (source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, size: number, incoming: IncomingMessage): ReadableStream<Uint8Array> {
  return ReadableStream.from((async function * () {
    let sent = 0
    for await (const chunk of source) {
      const room = Math.floor(size / 2) - sent
      if (room <= 0) break
      const part = chunk.subarray(0, room)
      sent += part.byteLength
      yield part
    }
    // let the half that was sent leave before the reset
    await new Promise((resolve) => setTimeout(resolve, 50))
    incoming.socket.destroy()
  })())
}
