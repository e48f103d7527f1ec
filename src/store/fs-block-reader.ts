import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import type { BlockGetter, GetOptions } from './read-file.ts'

/** The parts of `FsBlockstore` that say where a block's file is. */
export interface FsBlockLayout {
  path: string
  shardingStrategy: { encode(cid: CID): { dir: string, file: string } }
}

/**
 * Local reads straight from blockstore-fs's files, one `readFile` per block,
 * instead of its 64 KiB read stream (16 reads and a stream per 1 MiB leaf).
 * Network reads, and blocks that are not on disk, go through `fallback`.
 */
export function createFsBlockReader (layout: FsBlockLayout, fallback: BlockGetter): BlockGetter {
  return {
    async * get (cid: CID, options: GetOptions) {
      if (options.offline) {
        const { dir, file } = layout.shardingStrategy.encode(cid)
        let bytes: Buffer | undefined
        try {
          bytes = await readFile(join(layout.path, dir, file), { signal: options.signal })
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        }
        if (bytes !== undefined) {
          yield bytes
          return
        }
      }
      yield * fallback.get(cid, options)
    }
  }
}
