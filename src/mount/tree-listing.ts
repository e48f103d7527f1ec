import type { IndexRecord } from '../index/index-record.ts'
import type { Listings } from '../pull/listings.ts'
import type { FormatMount } from '../pull/format-mount.ts'
import { isSafeName, treePathOf } from './key-paths.ts'

/** One name in a directory of the mounted tree; a file the node has cached carries its size and fetch time. */
export interface TreeEntry {
  name: string
  type: 'dir' | 'file'
  size?: number
  /** Milliseconds since the epoch: when the upstream last confirmed the bytes. */
  mtime?: number
  /** The size is the stored artifact's (a document's may change at its next revalidation). */
  artifact?: boolean
}

/** More names than this in one directory are left out (a Debian pool letter holds a few thousand). */
export const MAX_ENTRIES = 100_000

export interface TreeComponents {
  index: { all(): AsyncIterable<IndexRecord> }
  mounts: Pick<FormatMount, 'adapter'>[]
  listings?: Pick<Listings, 'list'>
}

/**
 * What a directory of the mounted tree holds: the format prefixes the node serves,
 * every cached record below it (`key-paths.ts`), and, in an apt pool, every file
 * the `Packages` indexes the node fetched list. A linear pass over the index:
 * the kernel caches what it learns for a while, so this runs per directory read.
 */
export async function listTree (components: TreeComponents, dir: string[]): Promise<TreeEntry[]> {
  const entries = new Map<string, TreeEntry>()
  const add = (entry: TreeEntry): void => {
    const known = entries.get(entry.name)
    if (entries.size >= MAX_ENTRIES && known === undefined) return
    if (known === undefined || (known.size === undefined && entry.type === known.type)) entries.set(entry.name, entry)
  }
  const under = (path: string[]): boolean => path.length > dir.length && dir.every((s, i) => path[i] === s)
  const childOf = (path: string[], entry: Omit<TreeEntry, 'name' | 'type'>): void => {
    if (!under(path)) return
    const leaf = path.length === dir.length + 1
    add(leaf ? { name: path[dir.length]!, type: 'file', ...entry } : { name: path[dir.length]!, type: 'dir' })
  }

  for (const { adapter } of components.mounts) {
    const path = prefixPath(adapter.prefix)
    if (under(path)) add({ name: path[dir.length]!, type: 'dir' })
  }
  for await (const record of components.index.all()) {
    const path = treePathOf(record)
    if (path !== undefined) childOf(path, { size: record.size, mtime: record.fetchedAt, artifact: record.kind === 'artifact' })
  }
  // apt pool files are known from the listings before they are cached
  if (components.listings !== undefined && dir[0] === 'apt' && dir.length >= 3 && dir[2] === 'pool') {
    for await (const { key, size } of components.listings.list(`apt:${dir[1]}:${dir.slice(2).join('/')}/`)) {
      const path = ['apt', dir[1]!, ...key.slice(`apt:${dir[1]}:`.length).split('/')]
      if (path.every(isSafeName)) childOf(path, { size, artifact: true })
    }
  }
  return [...entries.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

/** A gateway prefix as a tree path: `/v2` is `oci` (the tree names formats, not API versions). */
export function prefixPath (prefix: string): string[] {
  return prefix === '/v2' ? ['oci'] : prefix.split('/').filter((s) => s !== '')
}
