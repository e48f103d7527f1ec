import { EventEmitter, once } from 'node:events'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'

/** Bytes handed to a client per read; bounded so memory stays flat whatever the artifact size. */
const READ_SIZE = 256 * 1024
/** The writer reads its own bytes back in leaf-sized pieces: they go straight to the importer. */
const READ_BACK_SIZE = 1024 * 1024
/**
 * Bodies up to this size stay in memory (most npm tarballs, wheels, small
 * debs): a file of their own would cost a cold fetch five trips to the thread
 * pool. A larger body moves to a file when it grows past this.
 */
const MEMORY_BYTES = 256 * 1024
/**
 * The last bytes written to a file stay in memory too, as the writer's own
 * chunks: a reader that keeps up with the upstream (most clients) takes them
 * from there, without a trip to the thread pool or a buffer of its own per read.
 * Only a reader further behind reads the file.
 */
const RECENT_BYTES = 1024 * 1024

/**
 * An upstream body on its way into the store, kept so that any number of
 * clients can read it at their own pace while it is still arriving (the way
 * nginx's proxy cache serves from its temp file): in memory while it is small,
 * then on disk, with its newest bytes still in memory for the readers that keep
 * up. The file is unlinked as soon as it is opened: the kernel frees it when the
 * last reader closes, or on a crash.
 *
 * Readers never see the end of the body before `finish()`: the last byte is held
 * back until the content has been verified, so a client can never receive a
 * complete-looking body that failed verification. The writer keeps the file
 * until `close()` (it may still read its bytes back to store them).
 */
export interface Spool {
  /** Takes `chunk` as it is, and may hand it to readers: it must not change afterwards. */
  write(chunk: Uint8Array): Promise<void>
  /** The bytes are verified: readers may deliver the end of the body. */
  finish(): void
  /** The fill failed: every reader errors, which aborts its connection. */
  fail(error: Error): void
  /** Whether `finish()` was called: every byte is here and verified. */
  readonly finished: boolean
  /** The writer is done with the file; it closes when its last reader has gone. */
  close(): void
  readonly written: number
  /** Why the fill failed, once it has. */
  readonly failure: Error | undefined
  /** Resolves once `bytes` have been written or the spool has settled. */
  reached(bytes: number): Promise<void>
  /**
   * A stream of bytes [start, end) as they become available; undefined once the
   * writer has closed it and its last reader has gone (the bytes are in the store by then).
   */
  reader(start?: number, end?: number): ReadableStream<Uint8Array> | undefined
  /** Everything written so far, read back by the writer itself (before it closes the spool). */
  readBack(): AsyncGenerator<Uint8Array>
}

export function createSpool (dir: string): Spool {
  const events = new EventEmitter()
  events.setMaxListeners(0)
  // bytes [0, written) are in `file` once the body outgrows memory; `kept`
  // holds bytes [keptFrom, written): all of them until then, the last ones after
  let kept: Uint8Array[] = []
  let keptFrom = 0
  let keptBytes = 0
  let file: FileHandle | undefined
  let written = 0
  let state: 'open' | 'finished' | 'failed' = 'open'
  let failure: Error | undefined
  let holders = 1 // the writer, until it closes
  let writerClosed = false

  const release = (): void => {
    if (--holders > 0) return
    kept = []
    void file?.close().catch(() => {})
  }
  const settle = (next: 'finished' | 'failed', error?: Error): void => {
    if (state !== 'open') return
    state = next
    failure = error
    events.emit('change')
  }
  const changed = async (): Promise<void> => { await once(events, 'change') }

  async function writeAt (handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
    for (let offset = 0; offset < chunk.byteLength;) {
      const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset, position + offset)
      offset += bytesWritten
    }
  }

  /** Copies what memory holds to a new file; memory keeps it as the most recent bytes. */
  async function spill (): Promise<FileHandle> {
    const path = join(dir, `spool-${randomUUID()}`)
    const handle = await open(path, 'w+')
    await unlink(path)
    let position = 0
    for (const chunk of kept) {
      await writeAt(handle, chunk, position)
      position += chunk.byteLength
    }
    file = handle
    return handle
  }

  /** Keeps `chunk` as the newest bytes; once on disk, lets go of the oldest beyond `RECENT_BYTES`. */
  function keep (chunk: Uint8Array): void {
    kept.push(chunk)
    keptBytes += chunk.byteLength
    while (file !== undefined && keptBytes - kept[0]!.byteLength >= RECENT_BYTES) {
      const oldest = kept.shift()!
      keptFrom += oldest.byteLength
      keptBytes -= oldest.byteLength
    }
  }

  /** Up to `length` bytes from `position`: from memory if it still holds them, else from the file. */
  async function read (position: number, length: number): Promise<Uint8Array> {
    if (position >= keptFrom || file === undefined) {
      let start = keptFrom
      for (const chunk of kept) {
        if (position < start + chunk.byteLength) return chunk.subarray(position - start, Math.min(chunk.byteLength, position - start + length))
        start += chunk.byteLength
      }
      throw new Error(`the spool has no byte ${position}`)
    }
    const buffer = Buffer.allocUnsafe(length)
    const { bytesRead } = await file.read(buffer, 0, length, position)
    if (bytesRead === 0) throw new Error(`the spool ended at byte ${position}`)
    return buffer.subarray(0, bytesRead)
  }

  return {
    get written () { return written },
    get failure () { return failure },
    get finished () { return state === 'finished' },

    async write (chunk) {
      if (file !== undefined || written + chunk.byteLength > MEMORY_BYTES) await writeAt(file ?? await spill(), chunk, written)
      keep(chunk)
      written += chunk.byteLength
      events.emit('change')
    },

    async * readBack () {
      if (writerClosed) throw new Error('the spool is closed; its bytes are for readers only')
      for (let position = 0; position < written;) {
        const chunk = await read(position, Math.min(READ_BACK_SIZE, written - position))
        position += chunk.byteLength
        yield chunk
      }
    },

    finish: () => { settle('finished') },
    fail: (error) => { settle('failed', error) },
    close: () => {
      if (writerClosed) return
      writerClosed = true
      release()
    },

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
                const chunk = await read(position, Math.min(READ_SIZE, available - position))
                position += chunk.byteLength
                controller.enqueue(chunk)
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
