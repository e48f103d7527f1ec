import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createSpool, type Spool } from '../../src/pull/spool.ts'

const KiB = 1024

async function readAll (stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** Whether the stream has delivered its end within a few turns of the event loop. */
async function endedSoon (stream: Promise<Buffer>): Promise<boolean> {
  return await Promise.race([stream.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50))])
}

/** The spool files this process holds open in `dir` (unlinked, so only /proc still names them). */
async function openSpoolFiles (dir: string): Promise<number> {
  const links = await Promise.all((await readdir('/proc/self/fd')).map(async (fd) => await readlink(`/proc/self/fd/${fd}`).catch(() => '')))
  return links.filter((l) => l.startsWith(join(dir, 'spool-'))).length
}

async function writeIn (spool: Spool, bytes: Buffer, chunk: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += chunk) await spool.write(bytes.subarray(at, at + chunk))
}

describe('a spool, in memory while small and on disk once large', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dpm-spool-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  // small, past memory, and past what memory keeps of a file's last bytes
  for (const size of [100 * KiB, 1024 * KiB + 7, 3 * 1024 * KiB + 5]) {
    it(`${size} bytes: readers from before, during and after the move to disk get every byte, the last only once verified`, async () => {
      const bytes = randomBytes(size)
      const spool = createSpool(dir)
      const early = readAll(spool.reader()!)
      await writeIn(spool, bytes.subarray(0, size / 2), 64 * KiB)
      const middle = readAll(spool.reader()!)
      const ranged = readAll(spool.reader(1000, 1000 + 5000)!)
      await writeIn(spool, bytes.subarray(size / 2), 64 * KiB)
      const late = readAll(spool.reader()!)
      assert.equal(await openSpoolFiles(dir), size > 256 * KiB ? 1 : 0, 'on disk only once past 256 KiB')

      assert.equal(await endedSoon(early), false, 'the end is held back until finish()')
      assert.deepEqual(await ranged, bytes.subarray(1000, 6000), 'a range short of the end needs no verification')
      let readBack = Buffer.alloc(0)
      for await (const chunk of spool.readBack()) readBack = Buffer.concat([readBack, chunk])
      assert.deepEqual(readBack, bytes)
      spool.finish()
      assert.equal(spool.finished, true)
      for (const body of [early, middle, late]) assert.deepEqual(await body, bytes)
      spool.close()
      assert.equal(spool.reader(), undefined, 'closed with no reader left: the bytes are in the store')
      assert.deepEqual(await readdir(dir), [], 'no file left behind (unlinked as soon as opened)')
    })
  }

  it('a reader that keeps up gets the writer\'s own chunks; one further behind than 1 MiB reads the file', async () => {
    const spool = createSpool(dir)
    const written: Uint8Array[] = []
    for (let i = 0; i < 40; i++) {
      written.push(randomBytes(64 * KiB))
      await spool.write(written.at(-1)!)
    }
    // 2.5 MiB written: bytes from 1.5 MiB on are still in memory, the first ones only on disk
    const near = spool.reader(24 * 64 * KiB + 100)!.getReader()
    const nearChunk = (await near.read()).value!
    assert.equal(nearChunk.buffer, written[24]!.buffer, 'the writer\'s chunk itself, not a copy read back')
    assert.deepEqual(Buffer.from(nearChunk), Buffer.from(written[24]!.subarray(100)))
    const far = spool.reader(0, 64 * KiB)!.getReader()
    const farChunk = (await far.read()).value!
    assert.notEqual(farChunk.buffer, written[0]!.buffer, 'read back from the file')
    assert.deepEqual(Buffer.from(farChunk), Buffer.from(written[0]!))
    await near.cancel()
    await far.cancel()
    spool.close()
  })

  it('a failed fill errors every reader, and the writer may still close it', async () => {
    const spool = createSpool(dir)
    await spool.write(randomBytes(10 * KiB))
    const reading = readAll(spool.reader()!)
    spool.fail(new Error('wrong digest'))
    await assert.rejects(reading, /wrong digest/)
    spool.close()
    assert.equal(spool.reader(), undefined)
  })
})
