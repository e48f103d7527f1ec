import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { CID } from 'multiformats/cid'
import { npmAdapter } from '../../formats/npm/index.ts'
import type { MetadataTarget } from '../../formats/index.ts'
import { createLocalIndex } from '../../src/index/local-index.ts'
import { createDocumentCache } from '../../src/pull/document-cache.ts'
import { createUpstreamClient } from '../../src/pull/upstream-client.ts'
import { createContentStore } from '../../src/store/content-store.ts'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'

/** A blockstore whose writes wait until `open()`, or fail with `fail()`. */
class GatedBlockstore extends MemoryBlockstore {
  #gate = Promise.withResolvers<void>()
  open (): void { this.#gate.resolve() }
  fail (): void { this.#gate.reject(new Error('the disk is full')) }
  override async put (cid: CID, block: Uint8Array): Promise<CID> {
    await this.#gate.promise
    return await super.put(cid, block)
  }
}

describe('the document cache answers a fetched document before its blocks are on disk', () => {
  let registry: FakeNpmRegistry
  before(async () => {
    registry = await startFakeNpmRegistry()
    registry.publish('left-pad', { version: '1.0.0', tarball: new Uint8Array(10) })
  })
  after(async () => { await registry.close() })

  function setUp (): { blockstore: GatedBlockstore, index: ReturnType<typeof createLocalIndex>, cache: ReturnType<typeof createDocumentCache>, target: MetadataTarget } {
    const blockstore = new GatedBlockstore()
    const index = createLocalIndex({ datastore: new MemoryDatastore() })
    const cache = createDocumentCache({ index, content: createContentStore({ blockstore }), upstream: createUpstreamClient({ userAgent: 'dpm-test' }) })
    const target = npmAdapter.parse({ method: 'GET', path: '/left-pad', query: new URLSearchParams(), headers: new Headers() }, `${registry.url}/`)
    assert.equal(target.kind, 'metadata')
    return { blockstore, index, cache, target: target as MetadataTarget }
  }
  const signal = (): AbortSignal => AbortSignal.timeout(10_000)

  it('records it only once its blocks are written, serving it meanwhile without asking again', async () => {
    const { blockstore, index, cache, target } = setUp()
    const upstreamBefore = registry.count('/left-pad')
    const first = await cache.get(npmAdapter, target, { signal: signal() })
    assert.equal(first.status, 'MISS')
    assert.equal(first.doc.name, 'left-pad')
    assert.equal(await index.get(target.key), undefined, 'no record names blocks not yet written')
    assert.equal(await blockstore.has(CID.parse(first.record.cid)), false)

    const again = await cache.get(npmAdapter, target, { signal: signal() })
    assert.equal(again.status, 'HIT')
    assert.equal(again.record.cid, first.record.cid)
    assert.equal(registry.count('/left-pad') - upstreamBefore, 1, 'the upstream was asked once')

    blockstore.open()
    await cache.storing(10_000)
    assert.equal((await index.get(target.key))?.cid, first.record.cid)
  })

  it('leaves the index as it was when the blocks cannot be written, and asks the upstream again', async () => {
    const { blockstore, index, cache, target } = setUp()
    const upstreamBefore = registry.count('/left-pad')
    const first = await cache.get(npmAdapter, target, { signal: signal() })
    assert.equal(first.status, 'MISS')
    blockstore.fail()
    await cache.storing(10_000)
    assert.equal(await index.get(target.key), undefined)
    assert.equal((await Array.fromAsync(blockstore.getAll())).length, 0, 'no block is left behind')
    // the next request finds nothing stored and fetches again
    assert.equal((await cache.get(npmAdapter, target, { signal: signal() })).status, 'MISS')
    assert.equal(registry.count('/left-pad') - upstreamBefore, 2)
  })

  it('makes a revalidation wait for the copy being stored', async () => {
    const { blockstore, index, cache, target } = setUp()
    await cache.get(npmAdapter, target, { signal: signal() })
    const revalidated = cache.get(npmAdapter, target, { signal: signal(), revalidate: true })
    const early = await Promise.race([revalidated.then(() => 'answered'), new Promise((resolve) => setTimeout(resolve, 200, 'waiting'))])
    assert.equal(early, 'waiting')
    blockstore.open()
    const answer = await revalidated
    assert.equal(answer.status, 'HIT', 'the upstream said 304 to the stored copy')
    assert.equal((await index.get(target.key))?.cid, answer.record.cid)
  })
})
