import { EventEmitter, once } from 'node:events'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'

/** Bytes handed to a client per read; bounded so memory stays flat whatever the artifact size. */
const READ_SIZE = 256 * 1024
/** The writer reads its own bytes back in leaf-sized pieces: they go straight to the importer. */
const READ_BACK_SIZE = 1024 * 1024

/**
 * An upstream body on its way into the store, on disk so that any number of
 * clients can read it at their own pace while it is still arriving (the way
 * nginx's proxy cache serves from its temp file). The file is unlinked as soon as
 * it is opened: the kernel frees it when the last reader closes, or on a crash.
 *
 * Readers never see the end of the body before `finish()`: the last byte is held
 * back until the content has been verified, so a client can never receive a
 * complete-looking body that failed verification.
 */
export interface Spool {
  write(chunk: Uint8Array): Promise<void>
  /** The bytes are verified: readers may deliver the end of the body. */
  finish(): void
  /** The fill failed: every reader errors, which aborts its connection. */
  fail(error: Error): void
  readonly written: number
  /** Why the fill failed, once it has. */
  readonly failure: Error | undefined
  /** Resolves once `bytes` have been written or the spool has settled. */
  reached(bytes: number): Promise<void>
  /**
   * A stream of bytes [start, end) as they become available; undefined once the
   * spool has settled and its last reader has gone (the bytes are in the store by then).
   */
  reader(start?: number, end?: number): ReadableStream<Uint8Array> | undefined
  /** Everything written so far, read back by the writer itself (before it settles the spool). */
  readBack(): AsyncGenerator<Uint8Array>
}

export async function createSpool (dir: string): Promise<Spool> {
  const path = join(dir, `spool-${randomUUID()}`)
  const file: FileHandle = await open(path, 'w+')
  await unlink(path)
  const events = new EventEmitter()
  events.setMaxListeners(0)
  let written = 0
  let state: 'open' | 'finished' | 'failed' = 'open'
  let failure: Error | undefined
  let holders = 1 // the writer, until the spool settles

  const release = (): void => {
    if (--holders === 0) void file.close().catch(() => {})
  }
  const settle = (next: 'finished' | 'failed', error?: Error): void => {
    if (state !== 'open') return
    state = next
    failure = error
    events.emit('change')
    release()
  }
  const changed = async (): Promise<void> => { await once(events, 'change') }

  return {
    get written () { return written },
    get failure () { return failure },

    async write (chunk) {
      let offset = 0
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset, written)
        offset += bytesWritten
        written += bytesWritten
      }
      events.emit('change')
    },

    async * readBack () {
      if (state !== 'open') throw new Error('the spool has settled; its bytes are for readers only')
      for (let position = 0; position < written;) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_BACK_SIZE, written - position))
        const { bytesRead } = await file.read(buffer, 0, buffer.byteLength, position)
        if (bytesRead === 0) throw new Error(`the spool ended at byte ${position} of ${written}`)
        position += bytesRead
        yield buffer.subarray(0, bytesRead)
      }
    },

    finish: () => { settle('finished') },
    fail: (error) => { settle('failed', error) },

    async reached (bytes) {
      while (state === 'open' && written < bytes) await changed()
    },

    reader (start = 0, end = Infinity) {
      if (holders === 0) return undefined
      holders++
      let position = start
      let released = false
      const done = (): void => { if (!released) { released = true; release() } }

      return new ReadableStream<Uint8Array>({
        async pull (controller) {
          try {
            while (true) {
              if (state === 'failed') throw failure
              const available = Math.min(end, state === 'finished' ? written : written - 1)
              if (position < available) {
                const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, available - position))
                const { bytesRead } = await file.read(buffer, 0, buffer.byteLength, position)
                position += bytesRead
                controller.enqueue(buffer.subarray(0, bytesRead))
                return
              }
              if (position >= end || state === 'finished') {
                controller.close()
                done()
                return
              }
              await changed()
            }
          } catch (err) {
            done()
            controller.error(err)
          }
        },
        cancel: done
      }, { highWaterMark: 0 })
    }
  }
}
