import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { countBlocks, listIndex } from '../../helpers/inspect-store.ts'
import { startTestNode, type TestNode } from '../../helpers/test-node.ts'

const TARBALL = randomBytes(64 * 1024)
const integrity = `sha512-${createHash('sha512').update(TARBALL).digest('base64')}`

/**
 * An npm upstream that misbehaves in one way per package: the packument is
 * honest, the tarball request is where each fault happens.
 */
function faultyRegistry (): { server: Server, url: () => string, hits: Map<string, number> } {
  const hits = new Map<string, number>()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const [name, dash] = url.pathname.slice(1).split('/')
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1)
    if (dash === undefined) {
      const tarball = `http://${req.headers.host}/${name}/-/${name}-1.0.0.tgz`
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ name, 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { name, version: '1.0.0', dist: { tarball, integrity } } } }))
      return
    }
    switch (name) {
      case 'server-error':
        res.writeHead(500).end('boom')
        return
      case 'redirect-loop':
        res.writeHead(302, { location: url.pathname }).end()
        return
      case 'overlong': {
        // declares the real size, then keeps sending: more bytes than promised
        res.writeHead(200, { 'content-length': String(TARBALL.length) })
        res.write(TARBALL)
        res.socket?.write(randomBytes(256 * 1024))
        res.socket?.end()
        return
      }
      case 'reset-mid-body':
        res.writeHead(200, { 'content-length': String(TARBALL.length) })
        res.write(TARBALL.subarray(0, 1000))
        setTimeout(() => req.socket.destroy(), 20)
        return
      case 'breaks-once':
      case 'breaks-once-ignores-range': {
        // the first answer is cut after 1000 bytes; the next is whole, or the rest when asked for it
        if (hits.get(url.pathname) === 1) {
          res.writeHead(200, { 'content-length': String(TARBALL.length) })
          res.write(TARBALL.subarray(0, 1000))
          setTimeout(() => req.socket.destroy(), 20)
          return
        }
        const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0)
        if (name === 'breaks-once' && from > 0) {
          res.writeHead(206, { 'content-length': String(TARBALL.length - from), 'content-range': `bytes ${from}-${TARBALL.length - 1}/${TARBALL.length}` })
          res.end(TARBALL.subarray(from))
          return
        }
        res.writeHead(200, { 'content-length': String(TARBALL.length) }).end(TARBALL)
        return
      }
      case 'trickle': {
        // a slow-loris: a byte every half second keeps any idle timer alive
        res.writeHead(200, { 'content-length': String(TARBALL.length) })
        let sent = 0
        const drip = setInterval(() => {
          if (res.destroyed || sent >= TARBALL.length) { clearInterval(drip); return }
          res.write(TARBALL.subarray(sent, sent + 1))
          sent++
        }, 500)
        res.on('close', () => { clearInterval(drip) })
        return
      }
      case 'wrong-bytes':
        res.writeHead(200, { 'content-length': String(TARBALL.length) }).end(randomBytes(TARBALL.length))
        return
      case 'not-gzip-but-identity':
        // a gzip transfer encoding the node did not ask for: stored bytes must be the artifact, not its encoding
        res.writeHead(200, { 'content-encoding': 'gzip' }).end(TARBALL)
        return
      default:
        res.writeHead(404).end()
    }
  })
  return { server, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, hits }
}

describe('an upstream that misbehaves while sending a tarball', () => {
  const upstream = faultyRegistry()
  let dpm: TestNode
  before(async () => {
    await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve))
    dpm = await startTestNode({ npmUpstream: upstream.url() })
  })
  after(async () => {
    await dpm.destroy()
    upstream.server.closeAllConnections()
    await new Promise((resolve) => upstream.server.close(resolve))
  })

  it('overlong: an upstream that sends more than the Content-Length it declared gives exactly the declared, verified bytes', async () => {
    const response = await fetch(`${dpm.url}/npm/overlong/-/overlong-1.0.0.tgz`, { signal: AbortSignal.timeout(20_000) })
    assert.equal(response.status, 200)
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), TARBALL)
  })

  for (const fault of ['breaks-once', 'breaks-once-ignores-range']) {
    it(`${fault}: a connection that breaks midway is asked for once more from where it stopped, and every waiting client gets the whole verified file`, async () => {
      await (await fetch(`${dpm.url}/npm/${fault}`)).arrayBuffer()
      const responses = await Promise.all([1, 2, 3].map(async () => await fetch(`${dpm.url}/npm/${fault}/-/${fault}-1.0.0.tgz`, { signal: AbortSignal.timeout(20_000) })))
      for (const response of responses) {
        assert.equal(response.status, 200)
        assert.deepEqual(Buffer.from(await response.arrayBuffer()), TARBALL)
      }
      assert.equal(upstream.hits.get(`/${fault}/-/${fault}-1.0.0.tgz`), 2, 'one fill, one more request')
      assert.ok((await listIndex(dpm)).some((record) => record.key.includes(`${fault}-1.0.0.tgz`)), 'stored')
    })
  }

  it('trickle: a body that arrives a byte at a time is given up once a 30 s window brings under 64 KiB — a clean 502, nothing stored', async () => {
    await (await fetch(`${dpm.url}/npm/trickle`)).arrayBuffer()
    await dpm.node.storing(10_000)
    const blocksBefore = await countBlocks(dpm.dataDir)
    const started = performance.now()
    const response = await fetch(`${dpm.url}/npm/trickle/-/trickle-1.0.0.tgz`, { signal: AbortSignal.timeout(60_000) })
    const body = await response.text()
    // no other source: the node says so, and its log says why
    assert.equal(response.status, 502, body.slice(0, 200))
    assert.match((JSON.parse(body) as { error: string }).error, /no source could deliver/)
    assert.ok(dpm.logs.some((l) => /arrived too slowly/.test(String(l.err))), 'the reason is logged')
    assert.ok(performance.now() - started < 45_000, 'given up after one window')
    assert.equal(await countBlocks(dpm.dataDir), blocksBefore)
    assert.ok(!(await listIndex(dpm)).some((record) => record.key.includes('trickle-1.0.0.tgz')))
  })

  for (const fault of ['server-error', 'redirect-loop', 'reset-mid-body', 'wrong-bytes', 'not-gzip-but-identity']) {
    it(`${fault}: a clean 502 in npm's shape, within seconds, and nothing stored`, async () => {
      await (await fetch(`${dpm.url}/npm/${fault}`)).arrayBuffer() // the honest packument, stored first
      await dpm.node.storing(10_000)
      const blocksBefore = await countBlocks(dpm.dataDir)
      const started = performance.now()
      const response = await fetch(`${dpm.url}/npm/${fault}/-/${fault}-1.0.0.tgz`, { signal: AbortSignal.timeout(20_000) })
      const body = await response.text()
      assert.equal(response.status, 502, `${fault}: ${response.status} ${body.slice(0, 200)}`)
      assert.equal(response.headers.get('content-type'), 'application/json')
      assert.ok(typeof (JSON.parse(body) as { error?: unknown }).error === 'string')
      assert.ok(performance.now() - started < 15_000, 'no hung request')
      assert.equal(await countBlocks(dpm.dataDir), blocksBefore, 'no blocks left behind')
      assert.ok(!(await listIndex(dpm)).some((record) => record.key.includes(`${fault}-1.0.0.tgz`)), 'no index record')
      // a broken connection is asked for once more, never again and again
      if (fault === 'reset-mid-body') assert.equal(upstream.hits.get(`/${fault}/-/${fault}-1.0.0.tgz`), 2)
    })
  }
})
