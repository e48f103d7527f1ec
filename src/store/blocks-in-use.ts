/**
 * What a collection must leave alone while imports run beside it. An import
 * holds every block it wrote or found already there (by block file name) until
 * it settles — its record is in the index, or it was discarded — since until
 * then no record names them. And an import's look-then-write of one block never
 * interleaves with a sweep's deletes: a sweep waits for the writes under way and
 * holds new ones back while it deletes, so an import cannot find a block a
 * sweep then removes.
 */
export class BlocksInUse {
  readonly #holds = new Map<string, number>()
  #writes = 0
  #writesDone = Promise.withResolvers<void>()
  #sweep: Promise<void> | undefined

  has (name: string): boolean {
    return this.#holds.has(name)
  }

  /** Holds `name` until the returned function is called (once; later calls do nothing). */
  hold (name: string): () => void {
    this.#holds.set(name, (this.#holds.get(name) ?? 0) + 1)
    let held = true
    return () => {
      if (!held) return
      held = false
      const left = this.#holds.get(name)! - 1
      if (left === 0) this.#holds.delete(name)
      else this.#holds.set(name, left)
    }
  }

  /** Runs an import's write of one block, after any sweep under way. */
  async writing<T> (write: () => Promise<T>): Promise<T> {
    while (this.#sweep !== undefined) await this.#sweep
    this.#writes++
    try {
      return await write()
    } finally {
      if (--this.#writes === 0) this.#writesDone.resolve()
    }
  }

  /** Runs a sweep's deletes once the writes under way are done, holding new ones back meanwhile. */
  async sweeping (deletes: () => Promise<void>): Promise<void> {
    while (this.#sweep !== undefined) await this.#sweep
    const done = Promise.withResolvers<void>()
    this.#sweep = done.promise
    try {
      if (this.#writes > 0) {
        this.#writesDone = Promise.withResolvers<void>()
        await this.#writesDone.promise
      }
      await deletes()
    } finally {
      this.#sweep = undefined
      done.resolve()
    }
  }
}
