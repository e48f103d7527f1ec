import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { unixfs } from '@helia/unixfs'
import { MemoryBlockstore } from 'blockstore-core'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import type { CID } from 'multiformats/cid'
import { CHUNK_SIZE, createContentStore } from '../../src/store/content-store.ts'

/** The CID the UnixFS importer gives `bytes` with the store's settings: what every node must agree on. */
async function importerCid (bytes: Uint8Array): Promise<string> {
  const cid = await unixfs({ blockstore: new MemoryBlockstore() }).addByteStream([bytes], { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: CHUNK_SIZE }) })
  return cid.toString()
}

/** `bytes` in pieces of `piece` bytes, as a network body arrives. */
async function * inPieces (bytes: Uint8Array, piece: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += piece) yield bytes.subarray(at, at + piece)
}

describe('the content store\'s add', () => {
  it('gives every size, however it arrives, the CID the importer gives it, and stores it whole', async () => {
    for (const size of [0, 1, 1000, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5]) {
      const bytes = randomBytes(size)
      const expected = await importerCid(bytes)
      for (const source of [[bytes], inPieces(bytes, 64 * 1024), inPieces(bytes, CHUNK_SIZE + 3)]) {
        const store = createContentStore({ blockstore: new MemoryBlockstore() })
        const added = await store.add(source)
        assert.equal(added.cid.toString(), expected, `${size} bytes`)
        added.settle()
        assert.deepEqual(await store.readAll(added.cid), Buffer.from(bytes), `${size} bytes read back`)
      }
      const store = createContentStore({ blockstore: new MemoryBlockstore() })
      const deferred = await store.addBytes(bytes)
      assert.equal(deferred.cid.toString(), expected, `${size} bytes, added whole`)
      await deferred.stored
      deferred.settle()
      assert.deepEqual(await store.readAll(deferred.cid), Buffer.from(bytes), `${size} bytes added whole, read back`)
    }
  })

  it('answers bytes added whole before they are written, and takes back the blocks written when one write fails', async () => {
    let puts = 0
    const blockstore = new class extends MemoryBlockstore {
      override async put (cid: CID, block: Uint8Array): Promise<CID> {
        if (++puts === 2) throw new Error('the disk is full')
        await new Promise((resolve) => setTimeout(resolve, 10))
        return await super.put(cid, block)
      }
    }()
    const added = await createContentStore({ blockstore }).addBytes(randomBytes(3 * CHUNK_SIZE))
    assert.equal((await Array.fromAsync(blockstore.getAll())).length, 0, 'answered before any block is written')
    await assert.rejects(added.stored, /disk is full/)
    assert.equal((await Array.fromAsync(blockstore.getAll())).length, 0, 'no block is left behind')
  })

  it('takes back what a failed import wrote, and lets go of its source', async () => {
    const blockstore = new MemoryBlockstore()
    const store = createContentStore({ blockstore })
    let released = false
    async function * failing (): AsyncGenerator<Uint8Array> {
      try {
        yield randomBytes(CHUNK_SIZE)
        yield randomBytes(CHUNK_SIZE)
        throw new Error('the upstream hung up')
      } finally {
        released = true
      }
    }
    await assert.rejects(store.add(failing()), /hung up/)
    assert.equal(released, true)
    assert.equal((await Array.fromAsync(blockstore.getAll())).length, 0, 'no block is left behind')
  })
})
