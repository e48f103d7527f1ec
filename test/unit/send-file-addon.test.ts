import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { closeSync, openSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { constants, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { loadSendFile, type SendFile } from '../../src/gateway/send-from-disk.ts'

const { EBADF, EIO, ECANCELED } = constants.errno

describe('the sendfile addon (native/send-file.c)', () => {
  let sendFile: SendFile
  let dir: string
  let path: string
  const bytes = randomBytes(8 * 1024 * 1024 + 17) // more than a loopback socket takes at once
  let server: Server
  const accepted: Socket[] = []

  before(async () => {
    const loaded = loadSendFile()
    assert.ok(loaded !== undefined, 'native/build.sh built native/build/send-file.node at install (it needs cc and Node\'s headers)')
    sendFile = loaded
    dir = await mkdtemp(join(tmpdir(), 'dpm-sendfile-'))
    path = join(dir, 'block')
    await writeFile(path, bytes)
    server = createServer((socket) => { accepted.push(socket) }).listen(0, '127.0.0.1')
    await once(server, 'listening')
  })
  after(async () => {
    server.close()
    await rm(dir, { recursive: true, force: true })
  })

  /** A connected pair: the server's socket (whose descriptor the addon writes to) and the client reading it. */
  async function pair (): Promise<{ from: Socket, to: Socket, fd: number }> {
    const to = connect((server.address() as { port: number }).port, '127.0.0.1')
    await once(to, 'connect')
    while (accepted.length === 0) await sleep(1)
    const from = accepted.shift()!
    return { from, to, fd: (from as unknown as { _handle: { fd: number } })._handle.fd }
  }

  function send (socket: number, file: number, offset: number, length: number): { done: Promise<{ errno: number, sent: number }>, transfer: unknown } {
    const done = Promise.withResolvers<{ errno: number, sent: number }>()
    const transfer = sendFile.send(socket, file, offset, length, (errno, sent) => { done.resolve({ errno, sent }) })
    return { done: done.promise, transfer }
  }

  async function received (socket: Socket, length: number): Promise<Buffer> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of socket) {
      chunks.push(chunk as Buffer)
      size += (chunk as Buffer).byteLength
      if (size >= length) break
    }
    return Buffer.concat(chunks)
  }

  /** Runs `body` with a connected pair and the test file open, and closes all three after. */
  async function withConnection (body: (c: { to: Socket, fd: number, file: number }) => Promise<void>): Promise<void> {
    const { from, to, fd } = await pair()
    const file = openSync(path, 'r')
    try {
      await body({ to, fd, file })
    } finally {
      closeSync(file)
      from.destroy()
      to.destroy()
    }
  }

  it('sends a whole file to a client that reads slowly, waiting whenever the socket is full', async () => {
    await withConnection(async ({ to, fd, file }) => {
      to.pause()
      const { done } = send(fd, file, 0, bytes.byteLength)
      await sleep(100) // the socket fills and the addon waits for it
      to.resume()
      const [got, result] = await Promise.all([received(to, bytes.byteLength), done])
      assert.deepEqual(result, { errno: 0, sent: bytes.byteLength })
      assert.ok(got.equals(bytes))
    })
  })

  it('sends exactly the part asked for', async () => {
    await withConnection(async ({ to, fd, file }) => {
      const { done } = send(fd, file, 1_000_003, 2_500_000)
      const [got, result] = await Promise.all([received(to, 2_500_000), done])
      assert.deepEqual(result, { errno: 0, sent: 2_500_000 })
      assert.ok(got.equals(bytes.subarray(1_000_003, 3_500_003)))
    })
  })

  it('says EIO when the file ends before the length asked for, having sent what there was', async () => {
    await withConnection(async ({ to, fd, file }) => {
      const { done } = send(fd, file, bytes.byteLength - 10, 100)
      const [got, result] = await Promise.all([received(to, 10), done])
      assert.deepEqual(result, { errno: EIO, sent: 10 })
      assert.ok(got.equals(bytes.subarray(-10)))
    })
  })

  it('stops when cancelled while a client does not read, and tells once', async () => {
    await withConnection(async ({ to, fd, file }) => {
      to.pause()
      const { done, transfer } = send(fd, file, 0, bytes.byteLength)
      await sleep(50)
      sendFile.cancel(transfer)
      sendFile.cancel(transfer) // a second cancel, or one after the end, does nothing
      const result = await done
      assert.equal(result.errno, ECANCELED)
      assert.ok(result.sent > 0 && result.sent < bytes.byteLength, `sent ${result.sent}`)
    })
  })

  it('ends with the socket\'s error when the client goes away', async () => {
    await withConnection(async ({ to, fd, file }) => {
      to.pause()
      const { done } = send(fd, file, 0, bytes.byteLength)
      await sleep(50)
      to.resetAndDestroy()
      const result = await done
      assert.ok(result.errno !== 0 && result.errno !== EIO, `errno ${result.errno}`)
      assert.ok(result.sent < bytes.byteLength)
    })
  })

  it('reports a descriptor that is not open through done, as sendfile does', async () => {
    const { from, to, fd } = await pair()
    const file = openSync(path, 'r')
    closeSync(file) // nothing opens in between: the number stays unused
    try {
      assert.deepEqual(await send(fd, file, 0, 1).done, { errno: EBADF, sent: 0 })
    } finally {
      from.destroy()
      to.destroy()
    }
  })

  it('refuses arguments that are not descriptors, offsets and lengths', () => {
    assert.throws(() => sendFile.send(-1, 0, 0, 1, () => {}), TypeError)
    assert.throws(() => sendFile.send(1, -1, 0, 1, () => {}), TypeError)
    assert.throws(() => (sendFile.send as (...args: unknown[]) => unknown)('x', 0, 0, 1, () => {}), TypeError)
    assert.throws(() => sendFile.send(1, 0, -5, 1, () => {}), TypeError)
    assert.throws(() => sendFile.cancel({}), TypeError)
  })
})
