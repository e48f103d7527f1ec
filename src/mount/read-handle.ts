import type { NodeFiles } from './node-files.ts'

/**
 * An open file of the mount: kernel reads (`offset`, `length`) answered from one
 * streamed Range response while they come in order, as `cat` and the page cache's
 * read-ahead make them; a read elsewhere starts a new response there. Nothing is
 * held beyond the chunk being handed out, whatever the file's size.
 */
export interface ReadHandle {
  read(target: Buffer, length: number, offset: number): Promise<number>
  close(): Promise<void>
}

export function createReadHandle (files: Pick<NodeFiles, 'read'>, gatewayPath: string, size: number): ReadHandle {
  const lifetime = new AbortController()
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let position = 0
  let pending: Uint8Array | undefined
  // the kernel may send reads of one file from several threads at once: one at a time here
  let queue: Promise<unknown> = Promise.resolve()

  async function restart (offset: number): Promise<void> {
    await drop()
    reader = (await files.read(gatewayPath, offset, lifetime.signal)).getReader()
    position = offset
  }

  async function drop (): Promise<void> {
    const old = reader
    reader = undefined
    pending = undefined
    await old?.cancel().catch(() => {})
  }

  async function readAt (target: Buffer, length: number, offset: number): Promise<number> {
    if (offset >= size || length <= 0) return 0
    const want = Math.min(length, size - offset)
    if (reader === undefined || position !== offset) await restart(offset)
    let filled = 0
    while (filled < want) {
      if (pending === undefined || pending.byteLength === 0) {
        const next = await reader!.read()
        if (next.done) break
        pending = next.value
      }
      const take = Math.min(want - filled, pending.byteLength)
      target.set(pending.subarray(0, take), filled)
      pending = pending.subarray(take)
      filled += take
    }
    position += filled
    if (filled < want) throw new Error(`the node's answer for ${gatewayPath} ended at byte ${position} of ${size}`)
    return filled
  }

  return {
    read (target, length, offset) {
      const result = queue.then(() => readAt(target, length, offset))
      queue = result.catch(async () => await drop())
      return result
    },
    async close () {
      lifetime.abort()
      await queue.catch(() => {})
      await drop()
    }
  }
}
