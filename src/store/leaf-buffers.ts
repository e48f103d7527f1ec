/**
 * Where in its memory a buffer starts: past a page boundary. Node gives a large
 * buffer memory that starts on a page, and on the AMD EPYC of these machines a
 * 1 MiB block read from the page cache into such a buffer costs the kernel ~3×
 * the time of one 64 bytes off (4096 reads: 3.0 s against 0.9 s, any other
 * offset as good) — seemingly 4 KiB aliasing between the copy's loads and
 * stores. It took a cache hit's kernel time from 1.11 to 0.65 s per GiB
 * (`bench/serve`). 64 bytes keeps the start on a cache line.
 */
export const PAGE_SKEW = 64

/** A new buffer for `bytes`, off a page boundary when it is big enough to start on one. */
export function offPageBuffer (bytes: number): Buffer {
  // smaller ones come from Node's shared pool, at whatever offset it is at
  return bytes < 64 * 1024 ? Buffer.allocUnsafe(bytes) : ownOffPageBuffer(bytes)
}

/** A buffer with memory of its own, never the shared pool's, starting `PAGE_SKEW` into it. */
function ownOffPageBuffer (bytes: number): Buffer {
  return Buffer.allocUnsafeSlow(PAGE_SKEW + bytes).subarray(PAGE_SKEW)
}

/**
 * Buffers for leaves read from disk on their way to a socket, taken again once
 * the socket has sent them. A fresh 1 MiB buffer per leaf costs a cache hit half
 * its speed in allocation and garbage collection (`bench/serve`). Mapping the
 * block files instead (mmap-io) was measured, 8 clients reading 1 GiB of 1 MiB
 * files from a bare Node server: the page faults cost more CPU than the copy
 * they save (0.53–0.63 s per GiB against 0.43–0.52 s). Only a buffer
 * that is out can come back, and only once, so no buffer is ever in two hands;
 * one that never comes back is collected like any other.
 */
export class LeafBuffers {
  readonly #size: number
  readonly #keep: number
  readonly #free: Buffer[] = []
  readonly #out = new WeakMap<ArrayBufferLike, Buffer>()

  /** `keep`: how many returned buffers wait for reuse; more are left to the collector. */
  constructor (size: number, keep: number) {
    this.#size = size
    this.#keep = keep
  }

  /**
   * A buffer for a leaf of `bytes`, or none for a leaf that does not fit or is
   * too small to tie up a whole buffer (a small file's only leaf: reading it
   * into one of its own size costs nothing worth saving).
   */
  take (bytes = this.#size): Buffer | undefined {
    if (bytes > this.#size || bytes < this.#size / 4) return undefined
    // a memory of its own each: a buffer is known by its memory
    const buffer = this.#free.pop() ?? ownOffPageBuffer(this.#size)
    this.#out.set(buffer.buffer, buffer)
    return buffer
  }

  /** Hands back the buffer under `chunk` (a view of it will do); anything else is ignored. */
  release (chunk: Uint8Array): void {
    const buffer = this.#out.get(chunk.buffer)
    if (buffer === undefined) return
    this.#out.delete(chunk.buffer)
    if (this.#free.length < this.#keep) this.#free.push(buffer)
  }
}
