import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { UpstreamTimeoutError, UpstreamUnreachableError } from '../../src/errors.ts'
import { createUpstreamClient } from '../../src/pull/upstream-client.ts'

const DOCUMENT = Buffer.from(JSON.stringify({ name: 'doc', padding: 'x'.repeat(10_000) }))

async function listen (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server, url: string }> {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

const text = async (body: AsyncIterable<Uint8Array>): Promise<string> => Buffer.concat(await Array.fromAsync(body)).toString()

describe('the upstream client', () => {
  let cdn: { server: Server, url: string }
  let registry: { server: Server, url: string }
  const seenAtCdn: Array<string | undefined> = []

  before(async () => {
    cdn = await listen((req, res) => {
      seenAtCdn.push(req.headers.authorization)
      res.end('blob bytes')
    })
    registry = await listen((req, res) => {
      switch (req.url) {
        case '/gzipped':
          if (!/gzip/.test(req.headers['accept-encoding'] ?? '')) return void res.writeHead(406).end()
          return void res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' }).end(gzipSync(DOCUMENT))
        case '/to-cdn':
          return void res.writeHead(307, { location: `${cdn.url}/blob` }).end()
        case '/loop':
          return void res.writeHead(302, { location: '/loop' }).end()
        case '/endless':
          // declares 10 GiB and trickles: only a cancel ends it
          res.writeHead(200, { 'content-length': String(10 * 1024 ** 3) })
          res.write(Buffer.alloc(64 * 1024))
          return
        case '/silent':
          return // never answers
        default:
          res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing')
      }
    })
  })

  after(() => {
    registry.server.closeAllConnections()
    registry.server.close()
    cdn.server.close()
  })

  const client = createUpstreamClient({ userAgent: 'dpm-test' })
  const signal = (): AbortSignal => AbortSignal.timeout(5_000)

  it('asks for a compressed body and gives it back decoded, without the encoded length', async () => {
    const response = await client.fetch(`${registry.url}/gzipped`, { signal: signal() })
    assert.equal(response.status, 200)
    assert.equal(response.ok, true)
    assert.equal(response.headers.get('Content-Type'), 'application/json')
    assert.equal(response.headers.get('content-encoding'), null)
    assert.equal(response.headers.get('content-length'), null)
    assert.equal(await text(response.body), DOCUMENT.toString())
  })

  it('follows a redirect to another origin without the Authorization it was given', async () => {
    const response = await client.fetch(`${registry.url}/to-cdn`, { signal: signal(), headers: { authorization: 'Bearer secret' } })
    assert.equal(await text(response.body), 'blob bytes')
    assert.deepEqual(seenAtCdn, [undefined])
  })

  it('ends a redirect loop with an error, not a hang', async () => {
    await assert.rejects(client.fetch(`${registry.url}/loop`, { signal: signal() }), UpstreamUnreachableError)
  })

  it('hands a 404 over as an answer, its body readable', async () => {
    const response = await client.fetch(`${registry.url}/missing`, { signal: signal() })
    assert.equal(response.status, 404)
    assert.equal(response.ok, false)
    assert.equal(await text(response.body), 'no such thing')
  })

  // as a 404's body or a document declared too large is dropped, unread
  it('lets go of a body cancelled unread, a short one already here or a 10 GiB one, raising nothing', async () => {
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown): void => { uncaught.push(err) }
    process.on('uncaughtException', onUncaught)
    try {
      for (const path of ['/missing', '/endless']) {
        const response = await client.fetch(`${registry.url}${path}`, { signal: signal() })
        await new Promise((resolve) => setTimeout(resolve, 20)) // the short body has arrived whole
        await response.body.cancel()
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
      assert.deepEqual(uncaught, [])
    } finally {
      process.off('uncaughtException', onUncaught)
    }
  })

  it('turns a deadline that passes before any answer into a timeout', async () => {
    await assert.rejects(client.fetch(`${registry.url}/silent`, { signal: AbortSignal.timeout(100) }), UpstreamTimeoutError)
  })

  it('calls an upstream that does not listen unreachable', async () => {
    const closed = await listen(() => {})
    const url = closed.url
    closed.server.close()
    await once(closed.server, 'close')
    await assert.rejects(client.fetch(`${url}/x`, { signal: signal() }), (err) => err instanceof UpstreamUnreachableError && /unreachable/.test(err.message))
  })
})
