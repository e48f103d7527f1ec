import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast } from 'blockstore-fs/sharding'
import { NotFoundError } from 'interface-store'
import type { CID } from 'multiformats/cid'

/**
 * blockstore-fs, reading each block with one `readFile` instead of a 64 KiB read
 * stream (16 reads and a stream object per 1 MiB leaf). Every reader gains: cache
 * hits served over HTTP (~400 → ~520 MiB/s) and blocks sent to peers over Bitswap.
 */
export class WholeFileBlockstore extends FsBlockstore {
  // our own instance of the default layout: FsBlockstore keeps its own private
  readonly #sharding: NextToLast

  constructor (location: string, sharding = new NextToLast()) {
    super(location, { shardingStrategy: sharding })
    this.#sharding = sharding
  }

  override async * get (cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    try {
      yield await readFile(this.#file(cid), { signal: options?.signal })
    } catch (err) {
      throw notFound(err)
    }
  }

  /** The block, read into the buffer `borrow` gives for its size (a view of it), else into a new one. */
  async getInto (cid: CID, borrow: (bytes: number) => Buffer | undefined): Promise<Uint8Array> {
    let file
    try {
      file = await open(this.#file(cid))
    } catch (err) {
      throw notFound(err)
    }
    try {
      const { size } = await file.stat()
      const buffer = borrow(size)
      if (buffer === undefined) return await file.readFile()
      let filled = 0
      while (filled < size) {
        const { bytesRead } = await file.read(buffer, filled, size - filled, filled)
        if (bytesRead === 0) throw new Error(`block ${cid} ended at ${filled} of ${size} bytes`)
        filled += bytesRead
      }
      return buffer.subarray(0, size)
    } finally {
      await file.close()
    }
  }

  #file (cid: CID): string {
    const { dir, file } = this.#sharding.encode(cid)
    return join(this.path, dir, file)
  }
}

function notFound (err: unknown): unknown {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new NotFoundError(String(err)) : err
}
