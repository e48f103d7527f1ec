import type { NodeFiles } from './node-files.ts'

/**
 * An open file of the mount: kernel reads (`offset`, `length`) answered from one
 * streamed Range response while they follow on, as `cat` and the page cache's
 * read-ahead make them; a read elsewhere starts a new response there. Nothing is
 * held beyond the chunk being handed out, whatever the file's size.
 */
export interface ReadHandle {
  read(target: Buffer, length: number, offset: number): Promise<number>
  close(): Promise<void>
}

/**
 * libfuse's loop runs on several threads, so sequential reads can arrive out of
 * order; a read just ahead of the stream waits this long for the ones before it
 * before the stream is restarted at it (measured: restarting on every reorder cut
 * a 256 MiB `dd` to ~20 MiB/s, with 700 Range requests).
 */
const REORDER_WAIT_MS = 20

interface Pending { target: Buffer, length: number, offset: number, resolve(n: number): void, reject(err: unknown): void }

export function createReadHandle (files: Pick<NodeFiles, 'read'>, gatewayPath: string, size: number): ReadHandle {
  const lifetime = new AbortController()
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let position = 0
  let chunk: Uint8Array | undefined
  const waiting: Pending[] = []
  let busy = false
  let timer: NodeJS.Timeout | undefined

  async function drop (): Promise<void> {
    const old = reader
    reader = undefined
    chunk = undefined
    await old?.cancel().catch(() => {})
  }

  async function readAt (target: Buffer, length: number, offset: number): Promise<number> {
    if (offset >= size || length <= 0) return 0
    const want = Math.min(length, size - offset)
    if (reader === undefined || position !== offset) {
      await drop()
      reader = (await files.read(gatewayPath, offset, lifetime.signal)).getReader()
      position = offset
    }
    let filled = 0
    while (filled < want) {
      if (chunk === undefined || chunk.byteLength === 0) {
        const next = await reader.read()
        if (next.done) break
        chunk = next.value
      }
      const take = Math.min(want - filled, chunk.byteLength)
      target.set(chunk.subarray(0, take), filled)
      chunk = chunk.subarray(take)
      filled += take
    }
    position += filled
    if (filled < want) throw new Error(`the node's answer for ${gatewayPath} ended at byte ${position} of ${size}`)
    return filled
  }

  /** Serves the read that follows on from the stream; failing that, after a short wait, the lowest one. */
  function pump (force = false): void {
    if (busy || waiting.length === 0) return
    clearTimeout(timer)
    timer = undefined
    let i = waiting.findIndex((p) => reader !== undefined && p.offset === position)
    if (i < 0) {
      if (!force && reader !== undefined) {
        timer = setTimeout(() => pump(true), REORDER_WAIT_MS)
        return
      }
      i = waiting.reduce((low, p, j) => p.offset < waiting[low]!.offset ? j : low, 0)
    }
    const [next] = waiting.splice(i, 1)
    busy = true
    readAt(next!.target, next!.length, next!.offset).then(next!.resolve, async (err) => {
      await drop()
      next!.reject(err)
    }).finally(() => {
      busy = false
      pump()
    })
  }

  return {
    read (target, length, offset) {
      if (lifetime.signal.aborted) return Promise.reject(new Error('closed'))
      return new Promise<number>((resolve, reject) => {
        waiting.push({ target, length, offset, resolve, reject })
        pump()
      })
    },
    async close () {
      lifetime.abort()
      clearTimeout(timer)
      for (const p of waiting.splice(0)) p.reject(new Error('closed'))
      await drop()
    }
  }
}
