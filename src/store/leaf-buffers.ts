/**
 * Buffers for leaves read from disk on their way to a socket, taken again once
 * the socket has sent them. A fresh 1 MiB buffer per leaf costs a cache hit half
 * its speed in allocation and garbage collection (`bench/serve`). Only a buffer
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
    const buffer = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#size)
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
