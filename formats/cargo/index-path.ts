/**
 * Crate names and the sparse index's file layout: `1/a`, `2/ab`, `3/a/abc`,
 * `ab/cd/abcd…`, all lower case (https://doc.rust-lang.org/cargo/reference/registry-index.html).
 */
const CRATE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** A crate name as published (case kept: download URLs carry it so). */
export function isCrateName (name: string): boolean {
  return CRATE_NAME.test(name)
}

/** Where a crate's index file lives, relative to the index root. */
export function indexPath (crate: string): string {
  const name = crate.toLowerCase()
  if (name.length === 1) return `1/${name}`
  if (name.length === 2) return `2/${name}`
  if (name.length === 3) return `3/${name[0]}/${name}`
  return `${name.slice(0, 2)}/${name.slice(2, 4)}/${name}`
}

/** The crate an index path names, if the path is exactly where that crate's file belongs. */
export function crateOfIndexPath (segments: string[]): string | undefined {
  const name = segments.at(-1)
  if (name === undefined || !isCrateName(name) || name !== name.toLowerCase()) return undefined
  return indexPath(name) === segments.join('/') ? name : undefined
}
