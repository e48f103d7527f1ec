import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { createSession, type ItemResult } from '../../src/prefetch/session.ts'

/** A stand-in for the node: answers every path after a pause, counting requests in flight. */
function fakeNode (answer: (path: string) => Response | Promise<Response>) {
  const state = { inFlight: 0, most: 0, asked: [] as string[] }
  return {
    state,
    client: {
      async fetch (path: string): Promise<Response> {
        state.asked.push(path)
        state.most = Math.max(state.most, ++state.inFlight)
        try {
          await sleep(5)
          return await answer(path)
        } finally {
          state.inFlight--
        }
      }
    }
  }
}

const progress = () => {
  const seen = { planned: 0, bytes: 0, done: [] as ItemResult[] }
  return { seen, sink: { planned: () => { seen.planned++ }, bytes: (n: number) => { seen.bytes += n }, done: (item: ItemResult) => { seen.done.push(item) } } }
}

describe('prefetch session', () => {
  it('keeps to its concurrency, fetches a path once, counts bytes as they stream and keeps no artifact body', async () => {
    const node = fakeNode(() => new Response(new Uint8Array(1000), { headers: { 'x-cache': 'MISS' } }))
    const { seen, sink } = progress()
    const session = createSession({ client: node.client, concurrency: 3, progress: sink })
    const paths = Array.from({ length: 20 }, (_, i) => `/npm/p${i}/-/p${i}-1.0.0.tgz`)
    const results = await Promise.all([...paths, ...paths].map(async (p) => await session.warm(p, p)))
    assert.equal(node.state.most, 3)
    assert.equal(node.state.asked.length, 20)
    assert.equal(session.items.length, 20)
    assert.equal(seen.planned, 20)
    assert.equal(seen.bytes, 20_000)
    assert.ok(results.every((r) => r.ok && r.cache === 'MISS' && r.bytes === 1000))
  })

  it('reads documents up to a cap, and records the node\'s error, a cut transfer and an unreachable node as failures', async () => {
    const node = fakeNode((path) => {
      if (path === '/doc') return new Response('{"a":1}', { headers: { 'x-cache': 'HIT' } })
      if (path === '/big') return new Response(new Uint8Array(2048))
      if (path === '/missing') return new Response('{"error":"version not found: 9.9.9"}', { status: 404, statusText: 'Not Found' })
      if (path === '/oci') return new Response('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown tag"}]}', { status: 404, statusText: 'Not Found' })
      if (path === '/cut') {
        let pulls = 0
        return new Response(new ReadableStream({
          pull (controller) {
            if (pulls++ === 0) controller.enqueue(new Uint8Array(100))
            else controller.error(new Error('socket hang up'))
          }
        }))
      }
      throw new Error('no node answers')
    })
    const { sink } = progress()
    const session = createSession({ client: node.client, concurrency: 2, progress: sink })
    assert.deepEqual(JSON.parse(new TextDecoder().decode(await session.read('/doc', 'doc'))), { a: 1 })
    assert.equal(await session.read('/big', 'big', { maxBytes: 1024 }), undefined)
    const missing = await session.warm('/missing', 'pkg@9.9.9')
    assert.equal(missing.error, '404 Not Found: version not found: 9.9.9')
    assert.equal((await session.warm('/oci', 'img')).error, '404 Not Found: MANIFEST_UNKNOWN: unknown tag')
    const cut = await session.warm('/cut', 'cut')
    assert.equal(cut.ok, false)
    assert.match(cut.error!, /the transfer broke off after 100 bytes \(socket hang up\)/)
    assert.match((await session.warm('/down', 'down')).error!, /no node answers/)
    assert.deepEqual(session.items.map((i) => [i.path, i.ok]), [['/doc', true], ['/big', false], ['/missing', false], ['/oci', false], ['/cut', false], ['/down', false]])
    assert.match(session.items[1]!.error!, /larger than 1024 bytes/)
  })
})
