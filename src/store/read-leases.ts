/**
 * Roots being read right now, counted: a collection passes over them, so no
 * client loses blocks from under a download it has started.
 */
export class ReadLeases {
  readonly #counts = new Map<string, number>()

  held (root: string): boolean {
    return this.#counts.has(root)
  }

  /** Yields `source` while holding a lease on `root`, from the first read to the end, an error or an early return. */
  async * read<T> (root: string, source: AsyncIterable<T>): AsyncGenerator<T> {
    this.#counts.set(root, (this.#counts.get(root) ?? 0) + 1)
    try {
      yield * source
    } finally {
      const left = this.#counts.get(root)! - 1
      if (left === 0) this.#counts.delete(root)
      else this.#counts.set(root, left)
    }
  }
}
