import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { countBlocks, listIndex } from '../../helpers/inspect-store.ts'
import { startTestNode, type TestNode } from '../../helpers/test-node.ts'
import { waitFor, within } from '../../helpers/wait-for.ts'

const TARBALL = randomBytes(64 * 1024)
/** What `endless` declares, and sends first. */
const MIB_TARBALL = randomBytes(1024 * 1024)
const integrityOf = (bytes: Uint8Array): string => `sha512-${createHash('sha512').update(bytes).digest('base64')}`
const GiB = 1024 ** 3
/** Past a packument's freshness (300 s), so the next request revalidates it. */
const PAST_FRESHNESS_MS = 301_000

/**
 * An npm upstream that misbehaves in one way per package: for most, the
 * packument is honest and the tarball request is where the fault happens; a
 * `meta-` package's packument is honest once, and its fault comes when the
 * node revalidates it.
 */
function faultyRegistry (): { server: Server, url: () => string, hits: Map<string, number>, endless: { sent: number, closed: Promise<void> } } {
  const hits = new Map<string, number>()
  const endlessClosed = Promise.withResolvers<void>()
  const endless = { sent: 0, closed: endlessClosed.promise }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const [name = '', dash] = url.pathname.slice(1).split('/')
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1)
    if (dash === undefined && name.startsWith('meta-') && hits.get(url.pathname)! > 1) {
      packumentFault(name, req, res)
      return
    }
    if (dash === undefined) {
      const tarball = `http://${req.headers.host}/${name}/-/${name}-1.0.0.tgz`
      const integrity = integrityOf(name === 'endless' ? MIB_TARBALL : TARBALL)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ name, 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { name, version: '1.0.0', dist: { tarball, integrity } } } }))
      return
    }
    switch (name) {
      case 'silent':
        // accepts, reads the request, never answers
        return
      case 'endless': {
        // declares 1 MiB, sends it, then keeps sending as fast as it is read, up to 10 GiB
        res.writeHead(200, { 'content-length': String(MIB_TARBALL.length) })
        res.write(MIB_TARBALL)
        const socket = res.socket!
        const junk = randomBytes(1024 * 1024)
        socket.on('close', () => { endlessClosed.resolve() })
        const pour = (): void => {
          while (!socket.destroyed && endless.sent < 10 * GiB) {
            endless.sent += junk.length
            if (!socket.write(junk)) { socket.once('drain', pour); return }
          }
        }
        pour()
        return
      }
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
  return { server, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, hits, endless }
}

/** The second and later answers for a `meta-` packument. */
function packumentFault (name: string, req: IncomingMessage, res: ServerResponse): void {
  const honest = JSON.stringify({ name, 'dist-tags': { latest: '1.0.1' }, versions: {} })
  switch (name) {
    case 'meta-server-error':
      res.writeHead(500).end('boom')
      return
    case 'meta-reset-mid-body':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(honest.length) })
      res.write(honest.slice(0, 10))
      setTimeout(() => req.socket.destroy(), 20)
      return
    case 'meta-truncated':
      // declares the length, sends half and ends the connection cleanly
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(honest.length) })
      res.socket?.end(honest.slice(0, honest.length >> 1))
      return
    case 'meta-malformed':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"name": "meta-malformed", "versions": ')
      return
    case 'meta-silent':
      return
    default:
      res.writeHead(404).end()
  }
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
    await assertStoredWhole('overlong', TARBALL)
  })

  it('endless: an upstream that declares 1 MiB and then sends on without end gives the declared, verified MiB and loses its connection', async () => {
    const started = performance.now()
    const response = await fetch(`${dpm.url}/npm/endless/-/endless-1.0.0.tgz`, { signal: AbortSignal.timeout(20_000) })
    assert.equal(response.status, 200)
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), MIB_TARBALL)
    assert.ok(performance.now() - started < 15_000, 'no hung request')
    // the node hangs up on what it never asked for, rather than reading it (or leaving it to fill the socket)
    await within(10_000, () => `the upstream connection closed (${Math.round(upstream.endless.sent / 2 ** 20)} MiB sent)`, upstream.endless.closed)
    assert.ok(upstream.endless.sent < GiB, `${Math.round(upstream.endless.sent / 2 ** 20)} MiB sent before the node hung up`)
    await assertStoredWhole('endless', MIB_TARBALL)
  })

  /** The tarball's record holds exactly `bytes`, and it is served again from the store. */
  async function assertStoredWhole (name: string, bytes: Buffer): Promise<void> {
    await dpm.node.storing(10_000)
    const record = (await listIndex(dpm)).find((r) => r.key.endsWith(`${name}-1.0.0.tgz`))
    assert.equal(record?.size, bytes.length, `${name}: the record's size`)
    const again = await fetch(`${dpm.url}/npm/${name}/-/${name}-1.0.0.tgz`, { signal: AbortSignal.timeout(20_000) })
    assert.equal(again.headers.get('x-cache'), 'HIT')
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), bytes)
  }

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

  it('silent: an upstream that never answers gives a tarball a clean 504 after its 30 s deadline, and a stored packument STALE after its 60 s one', async () => {
    await (await fetch(`${dpm.url}/npm/silent`)).arrayBuffer()
    await (await fetch(`${dpm.url}/npm/meta-silent`)).arrayBuffer()
    await dpm.node.storing(10_000)
    const stored = (await listIndex(dpm)).find((r) => r.key.endsWith('meta-silent'))
    dpm.advance(PAST_FRESHNESS_MS)
    const started = performance.now()
    const [tarball, packument] = await Promise.all([
      fetch(`${dpm.url}/npm/silent/-/silent-1.0.0.tgz`, { signal: AbortSignal.timeout(100_000) }),
      fetch(`${dpm.url}/npm/meta-silent`, { signal: AbortSignal.timeout(100_000) })
    ])
    const tarballBody = await tarball.text()
    assert.equal(tarball.status, 504, tarballBody.slice(0, 200))
    assert.equal(typeof (JSON.parse(tarballBody) as { error?: unknown }).error, 'string')
    assert.equal(packument.status, 200)
    assert.equal(packument.headers.get('x-cache'), 'STALE')
    assert.equal(((await packument.json()) as { name: string }).name, 'meta-silent')
    assert.ok(performance.now() - started < 90_000, 'each given up at its deadline')
    assert.deepEqual((await listIndex(dpm)).find((r) => r.key.endsWith('meta-silent'))?.cid, stored?.cid)
    assert.ok(!(await listIndex(dpm)).some((record) => record.key.includes('silent-1.0.0.tgz')))
  })

  for (const fault of ['meta-server-error', 'meta-reset-mid-body', 'meta-truncated', 'meta-malformed']) {
    it(`${fault}: a packument whose revalidation fails is answered from the stored copy (STALE) or with a clean 502, and the stored copy stays as it was`, async () => {
      const first = await fetch(`${dpm.url}/npm/${fault}`)
      const firstBody = await first.text()
      assert.equal(first.headers.get('x-cache'), 'MISS')
      await dpm.node.storing(10_000)
      const stored = (await listIndex(dpm)).find((r) => r.key.endsWith(fault))
      assert.ok(stored !== undefined)
      const blocksBefore = await countBlocks(dpm.dataDir)
      dpm.advance(PAST_FRESHNESS_MS)
      const started = performance.now()
      const response = await fetch(`${dpm.url}/npm/${fault}`, { signal: AbortSignal.timeout(20_000) })
      const body = await response.text()
      assert.ok(performance.now() - started < 15_000, 'no hung request')
      if (response.status === 200) {
        assert.equal(response.headers.get('x-cache'), 'STALE')
        assert.equal(body, firstBody)
      } else {
        assert.equal(response.status, 502, body.slice(0, 200))
        assert.equal(typeof (JSON.parse(body) as { error?: unknown }).error, 'string')
      }
      await dpm.node.storing(10_000)
      assert.equal((await listIndex(dpm)).find((r) => r.key.endsWith(fault))?.cid, stored.cid, 'the stored copy is kept')
      // a refused document's blocks are taken back once their writes end
      await waitFor('the blocks of what was refused to be taken back', async () => await countBlocks(dpm.dataDir) === blocksBefore, 10_000)
    })
  }
})
