import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setImmediate } from 'node:timers/promises'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { WholeFileBlockstore } from '../../src/store/whole-file-blockstore.ts'

const dirs: string[] = []
after(async () => { for (const dir of dirs) await rm(dir, { recursive: true, force: true }) })

async function openStore (): Promise<{ store: WholeFileBlockstore, path: string }> {
  const path = await mkdtemp(join(tmpdir(), 'dpm-blocks-'))
  dirs.push(path)
  const store = new WholeFileBlockstore(path)
  await store.open()
  return { store, path }
}

async function block (text: string): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = new TextEncoder().encode(text)
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

async function read (store: WholeFileBlockstore, cid: CID): Promise<string> {
  const chunks: Uint8Array[] = []
  for await (const chunk of store.get(cid)) chunks.push(chunk)
  return Buffer.concat(chunks).toString()
}

describe('the block files', () => {
  it('writes a block into a shard directory it makes, reads it back, and counts its bytes once however often it is put', async () => {
    const { store } = await openStore()
    const a = await block('a block of some bytes')
    await Promise.all([store.put(a.cid, a.bytes), store.put(a.cid, a.bytes)])
    await store.put(a.cid, a.bytes)
    assert.equal(await read(store, a.cid), 'a block of some bytes')
    assert.equal(store.bytes, a.bytes.byteLength)
    const b = await block('another')
    await store.put(b.cid, [b.bytes.subarray(0, 3), b.bytes.subarray(3)])
    assert.equal(await read(store, b.cid), 'another')
    assert.equal(store.bytes, a.bytes.byteLength + b.bytes.byteLength)
    await store.delete(a.cid)
    assert.equal(store.bytes, b.bytes.byteLength)
  })

  it('leaves no temporary file behind a write, and removes those a stopped process left, without counting them', async () => {
    const { store, path } = await openStore()
    const a = await block('whole')
    await store.put(a.cid, a.bytes)
    const shard = (await readdir(path, { withFileTypes: true })).find((d) => d.isDirectory())!.name
    assert.deepEqual((await readdir(join(path, shard))).filter((n) => n.endsWith('.tmp')), [])
    const leftover = join(path, shard, `${store.nameOf(a.cid)}.12345-1.tmp`)
    await writeFile(leftover, 'half a blo')
    const reopened = new WholeFileBlockstore(path)
    await reopened.open()
    assert.deepEqual(await readdir(join(path, shard)), [store.nameOf(a.cid)])
    assert.equal(reopened.bytes, a.bytes.byteLength)
    assert.equal((await reopened.list()).length, 1)
  })

  it('says a block it does not hold is not found', async () => {
    const { store } = await openStore()
    const missing = await block('never put')
    await assert.rejects(read(store, missing.cid), { name: 'NotFoundError' })
  })

  it('knows a block is here once it is put, also when a look for it ran alongside the write', async () => {
    const { store } = await openStore()
    const a = await block('looked for, then put')
    assert.equal(await store.has(a.cid), false)
    await store.put(a.cid, a.bytes)
    assert.equal(await store.has(a.cid), true)
    // looks racing writes: none may leave the block remembered as missing, to be written and counted again
    let bytes = a.bytes.byteLength
    for (let i = 0; i < 50; i++) {
      const b = await block(`raced ${i}`)
      bytes += b.bytes.byteLength
      // the look starts a little later each time, to land at every point of the write
      await Promise.all([store.put(b.cid, b.bytes), (async () => { for (let turn = 0; turn < i; turn++) await setImmediate(); await store.has(b.cid) })()])
      assert.equal(await store.has(b.cid), true, `block ${i}`)
      await store.put(b.cid, b.bytes)
    }
    assert.equal(store.bytes, bytes)
  })
})
