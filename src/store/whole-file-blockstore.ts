import { close, existsSync, fstat, open, read, writeFile } from 'node:fs'
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast } from 'blockstore-fs/sharding'
import { NotFoundError } from 'interface-store'
import type { CID } from 'multiformats/cid'
import { offPageBuffer } from './leaf-buffers.ts'

/** One block file as the directory holds it. */
export interface BlockFile {
  /** The file's name: the block's multihash, which is all the store keys blocks by. */
  name: string
  path: string
  size: number
  mtimeMs: number
}

/**
 * blockstore-fs, reading each block with one read into one buffer instead of a
 * 64 KiB read stream (16 reads and a stream object per 1 MiB leaf). Every reader gains: cache
 * hits served over HTTP (~400 → ~520 MiB/s) and blocks sent to peers over Bitswap.
 */
export class WholeFileBlockstore extends FsBlockstore {
  // our own instance of the default layout: FsBlockstore keeps its own private
  readonly #sharding: NextToLast

  #bytes = 0

  constructor (location: string, sharding = new NextToLast()) {
    super(location, { shardingStrategy: sharding })
    this.#sharding = sharding
  }

  /** Bytes in block files: counted at open, kept up to date by puts and deletes. */
  get bytes (): number {
    return this.#bytes
  }

  readonly #writing = new Map<string, Promise<void>>()
  #temporaries = 0

  /**
   * A look on the event loop: a few microseconds for a directory the kernel has
   * cached. An import asks three times before it writes a block (its own view,
   * Helia's storage, `put` here); blockstore-fs's `access` made each a trip to
   * the thread pool, and each new block an ENOENT exception (127 ms of CPU per
   * cold install of 447 packages, `--cpu-prof`).
   */
  override async has (cid: CID): Promise<boolean> {
    return existsSync(this.#file(cid))
  }

  override async open (): Promise<void> {
    await super.open()
    // a temporary file found now is one a process that stopped mid-write left
    this.#bytes = (await this.#walk(async (path) => { await unlink(path).catch(() => {}) })).reduce((sum, f) => sum + f.size, 0)
  }

  /** A block already here, or being written, is not written again: the same CID is the same bytes. */
  override async put (cid: CID, bytes: Parameters<FsBlockstore['put']>[1], options?: { signal?: AbortSignal }): Promise<CID> {
    const file = this.#file(cid)
    const under = this.#writing.get(file)
    if (under !== undefined) {
      await under
      return cid
    }
    // looked for inside the flight: two puts that both looked before either wrote would count the block twice
    const written = (async () => {
      if (await this.has(cid)) return
      const size = await this.#writeWhole(file, bytes, options?.signal) // not `+= await`: that would add to the count as it was before the wait
      this.#bytes += size
    })()
    this.#writing.set(file, written)
    try {
      await written
    } finally {
      this.#writing.delete(file)
    }
    return cid
  }

  /**
   * Writes a block file whole or not at all: into a temporary file beside it,
   * then renamed. What blockstore-fs does, less two file operations per block
   * (the directory is made only when a write finds it missing; the size is the
   * bytes' own, not a `stat`), each a trip to libuv's thread pool.
   */
  async #writeWhole (file: string, bytes: Parameters<FsBlockstore['put']>[1], signal?: AbortSignal): Promise<number> {
    const data = bytes instanceof Uint8Array ? bytes : Buffer.concat(await Array.fromAsync(bytes))
    const temp = `${file}.${process.pid}-${++this.#temporaries}${TEMPORARY}`
    signal?.throwIfAborted()
    try {
      await writeWhole(temp, data)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      await mkdir(dirname(file), { recursive: true })
      await writeWhole(temp, data)
    }
    try {
      await rename(temp, file)
    } catch (err) {
      await unlink(temp).catch(() => {})
      throw err
    }
    return data.byteLength
  }

  override async delete (cid: CID, options?: { signal?: AbortSignal }): Promise<void> {
    let size
    try {
      size = (await stat(this.#file(cid))).size
    } catch {
      return
    }
    await super.delete(cid, options)
    this.#bytes -= size
  }

  /** Deletes a block file `list` gave; false when it was gone already. */
  async remove (file: BlockFile): Promise<boolean> {
    try {
      await unlink(file.path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw err
    }
    this.#bytes -= file.size
    return true
  }

  /** Where the file a block is kept in is, whether or not it is there. */
  pathOf (cid: CID): string {
    return this.#file(cid)
  }

  /** The file a block is kept in, by its name (`BlockFile.name`, `nameOf`). */
  nameOf (cid: CID): string {
    return this.#sharding.encode(cid).file
  }

  /** Every block file with its size and mtime, from the directory itself. */
  async list (): Promise<BlockFile[]> {
    return await this.#walk()
  }

  /** The block files; temporary ones (`#writeWhole`), mid-write, go to `temporary` if it is given. */
  async #walk (temporary?: (path: string) => Promise<void>): Promise<BlockFile[]> {
    const files: BlockFile[] = []
    for (const dir of await readdir(this.path, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue
      for (const name of await readdir(join(this.path, dir.name))) {
        const path = join(this.path, dir.name, name)
        if (name.endsWith(TEMPORARY)) await temporary?.(path)
        if (!name.endsWith(this.#sharding.extension)) continue
        try {
          const { size, mtimeMs } = await stat(path)
          files.push({ name, path, size, mtimeMs })
        } catch {} // deleted meanwhile
      }
    }
    return files
  }

  // every block read here, also those sent to peers, lands off a page boundary (`leaf-buffers.ts`)
  override async * get (cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    options?.signal?.throwIfAborted()
    yield await this.getInto(cid, () => undefined)
  }

  /**
   * The block, read into the buffer `borrow` gives for its size (a view of it),
   * else into a new one off a page boundary. On the descriptor calls, not a
   * FileHandle: a cache hit makes three or four of these per leaf, and the promise
   * API's object per file cost the serving thread ~100 ms more per 4096 leaves.
   * A `size` known already (from the DAG above the block) saves asking the file.
   */
  async getInto (cid: CID, borrow: (bytes: number) => Buffer | undefined, known?: number): Promise<Uint8Array> {
    let fd
    try {
      fd = await fdOpen(this.#file(cid), 'r')
    } catch (err) {
      throw notFound(err)
    }
    try {
      const size = known ?? (await fdStat(fd)).size
      const buffer = borrow(size) ?? offPageBuffer(size)
      let filled = 0
      while (filled < size) {
        const { bytesRead } = await fdRead(fd, buffer, filled, size - filled, filled)
        if (bytesRead === 0) throw new Error(`block ${cid} ended at ${filled} of ${size} bytes`)
        filled += bytesRead
      }
      return buffer.subarray(0, size)
    } finally {
      await fdClose(fd)
    }
  }

  #file (cid: CID): string {
    const { dir, file } = this.#sharding.encode(cid)
    return join(this.path, dir, file)
  }
}

/** How a block file being written is named until it is whole. */
const TEMPORARY = '.tmp'
const writeWhole = promisify(writeFile)
const fdOpen = promisify(open)
const fdStat = promisify(fstat)
const fdClose = promisify(close)
const fdRead = promisify(read)

function notFound (err: unknown): unknown {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new NotFoundError(String(err)) : err
}
