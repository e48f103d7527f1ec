import { constants } from 'node:fs'
import type { FuseOperations, FuseStat } from 'fuse-native'
import { isSafeName } from './key-paths.ts'
import { shapeOf } from './fs-paths.ts'
import type { NodeFiles } from './node-files.ts'
import { createReadHandle, type ReadHandle } from './read-handle.ts'
import type { TreeEntry } from './tree-listing.ts'

/** The errno values answered (negative, as FUSE wants them): Linux's, whatever the binding's table says. */
export const E = { ENOENT: -2, EIO: -5, EACCES: -13, ENOTDIR: -20, EISDIR: -21, EINVAL: -22, EROFS: -30, ENAMETOOLONG: -36, ENODATA: -61 } as const

/** Directory listings are asked again after this; a probed document's size too (an apt `InRelease` changes). */
const LISTING_TTL_MS = 5_000
const DOCUMENT_TTL_MS = 30_000
/** A probe or read waits this long for the node before answering EIO (an upstream may be slow, never forever). */
export const REQUEST_TIMEOUT_MS = 120_000
const MAX_REMEMBERED = 10_000
/** Formats served as named mounts (`/apt/<name>/`): a name the node does not serve is not there. */
const MOUNTED_BY_NAME = new Set(['apt', 'cargo', 'dds'])

type Resolved = { type: 'dir', mtime: number } | { type: 'file', gatewayPath: string, size: number, mtime: number }

/**
 * The read-only filesystem: paths resolved by their shape (`fs-paths.ts`) and what
 * the node lists (`/-/api/tree`), files read through the gateway. Everything that
 * would change the tree answers EROFS (the mount is `ro` too, so the kernel
 * mostly refuses before asking).
 */
export function createFuseOperations (files: NodeFiles, init: { uid: number, gid: number, now?: () => number }): FuseOperations & { closeAll(): Promise<void> } {
  const now = init.now ?? Date.now
  const mountedAt = now()
  const listings = new Map<string, { at: number, entries: Map<string, TreeEntry> }>()
  const probed = new Map<string, { at: number, size: number, artifact: boolean }>()
  const handles = new Map<number, ReadHandle>()
  let nextHandle = 1

  const signal = (): AbortSignal => AbortSignal.timeout(REQUEST_TIMEOUT_MS)
  const remember = <V>(map: Map<string, V>, key: string, value: V): void => {
    if (map.size >= MAX_REMEMBERED) map.delete(map.keys().next().value!)
    map.set(key, value)
  }

  async function listing (dir: string[]): Promise<Map<string, TreeEntry>> {
    const key = dir.join('/')
    const known = listings.get(key)
    if (known !== undefined && now() - known.at < LISTING_TTL_MS) return known.entries
    const entries = new Map((await files.list(dir, signal())).map((e) => [e.name, e]))
    remember(listings, key, { at: now(), entries })
    return entries
  }

  /** Errno for a path no tree can hold, else its segments. */
  function segmentsOf (path: string): string[] | number {
    const segments = path.split('/').filter((s) => s !== '')
    if (segments.some((s) => Buffer.byteLength(s) > 255)) return E.ENAMETOOLONG
    return segments.every(isSafeName) ? segments : E.ENOENT
  }

  async function resolve (path: string): Promise<Resolved | number> {
    const segments = segmentsOf(path)
    if (typeof segments === 'number') return segments
    const shape = shapeOf(segments)
    if (shape.type === 'none') return E.ENOENT
    if (segments.length === 0) return { type: 'dir', mtime: mountedAt }
    const parent = segments.slice(0, -1)
    const name = segments.at(-1)!
    if (shape.type === 'dir') {
      // formats, and apt/cargo/dds mounts, exist only as the node serves them; deeper names
      // (a package nobody fetched yet) are directories by their shape
      const served = segments.length === 1 || (segments.length === 2 && MOUNTED_BY_NAME.has(segments[0]!))
      if (served && (await listing(parent)).get(name)?.type !== 'dir') return E.ENOENT
      return { type: 'dir', mtime: mountedAt }
    }
    const listed = (await listing(parent)).get(name)
    if (listed?.type === 'file' && listed.artifact === true && listed.size !== undefined && listed.mtime !== undefined) {
      return { type: 'file', gatewayPath: shape.gatewayPath, size: listed.size, mtime: listed.mtime }
    }
    const known = probed.get(shape.gatewayPath)
    if (known !== undefined && (known.artifact || now() - known.at < DOCUMENT_TTL_MS)) {
      return { type: 'file', gatewayPath: shape.gatewayPath, size: known.size, mtime: listed?.mtime ?? known.at }
    }
    // not cached: fetched through the pull-through path, which is how its size is learned
    const facts = await files.probe(shape.gatewayPath, signal())
    if (facts === undefined) return E.ENOENT
    remember(probed, shape.gatewayPath, { at: now(), size: facts.size, artifact: listed?.artifact ?? !segments.includes('dists') })
    listings.delete(parent.join('/')) // the node has it now: the next listing shows it
    return { type: 'file', gatewayPath: shape.gatewayPath, size: facts.size, mtime: listed?.mtime ?? now() }
  }

  const statOf = (r: Resolved): FuseStat => {
    const time = new Date(r.mtime)
    const common = { uid: init.uid, gid: init.gid, mtime: time, atime: time, ctime: time }
    return r.type === 'dir'
      ? { ...common, mode: constants.S_IFDIR | 0o555, nlink: 2, size: 4096 }
      : { ...common, mode: constants.S_IFREG | 0o444, nlink: 1, size: r.size, blocks: Math.ceil(r.size / 512), blksize: 128 * 1024 }
  }

  /** Runs `op`, answering with its value, or its errno when it returns a negative number. */
  function answer<T> (op: () => Promise<T | number>, reply: (err: number, value?: T) => void): void {
    op().then(
      (value) => typeof value === 'number' && value < 0 ? reply(value) : reply(0, value as T),
      // the node failed, timed out or answered nonsense: nothing the path can be blamed for
      () => reply(E.EIO)
    )
  }

  const readOnly = (...args: unknown[]): void => (args.at(-1) as (err: number) => void)(E.EROFS)

  return {
    getattr (path, cb) {
      answer(async () => { const r = await resolve(path); return typeof r === 'number' ? r : statOf(r) }, cb)
    },
    fgetattr (path: string, _fd: number, cb: (err: number, stat?: FuseStat) => void) {
      answer(async () => { const r = await resolve(path); return typeof r === 'number' ? r : statOf(r) }, cb)
    },
    readdir (path, cb) {
      answer(async () => {
        const r = await resolve(path)
        if (typeof r === 'number') return r
        if (r.type !== 'dir') return E.ENOTDIR
        const segments = segmentsOf(path) as string[]
        const entries = [...(await listing(segments)).values()]
        // the stats give readdir its d_type, so `ls` and `find` need no stat per name
        const here = statOf(r)
        return { names: ['.', '..', ...entries.map((e) => e.name)], stats: [here, here, ...entries.map((e) => statOf(e.type === 'dir' ? { type: 'dir', mtime: mountedAt } : { type: 'file', gatewayPath: '', size: e.size ?? 0, mtime: e.mtime ?? mountedAt }))] }
      }, (err, value) => err === 0 ? cb(0, value!.names, value!.stats) : cb(err))
    },
    open (path, flags, cb) {
      if ((flags & 0o3 /* O_ACCMODE */) !== constants.O_RDONLY || (flags & (constants.O_TRUNC | constants.O_CREAT)) !== 0) return cb(E.EROFS)
      answer(async () => {
        const r = await resolve(path)
        if (typeof r === 'number') return r
        if (r.type !== 'file') return E.EISDIR
        const fd = nextHandle++
        handles.set(fd, createReadHandle(files, r.gatewayPath, r.size))
        return fd
      }, cb)
    },
    read (_path, fd, buffer, length, position, cb) {
      const handle = handles.get(fd)
      if (handle === undefined) return cb(E.EINVAL)
      handle.read(buffer, length, position).then(cb, () => cb(E.EIO))
    },
    release (_path, fd, cb) {
      const handle = handles.get(fd)
      handles.delete(fd)
      void handle?.close()
      cb(0)
    },
    statfs (_path, cb) {
      cb(0, { bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, favail: 0, fsid: 0, flag: 1 /* ST_RDONLY */, namemax: 255 })
    },
    access (path, mode, cb) {
      if ((mode & constants.W_OK) !== 0) return cb(E.EROFS)
      answer(async () => { const r = await resolve(path); return typeof r === 'number' ? r : true }, (err) => cb(err))
    },
    getxattr (_path: string, _name: string, _position: number, cb: (err: number) => void) { cb(E.ENODATA) },
    listxattr (_path: string, cb: (err: number, names?: string[]) => void) { cb(0, []) },
    flush (_path: string, _fd: number, cb: (err: number) => void) { cb(0) },
    opendir (_path: string, _flags: number, cb: (err: number, fd?: number) => void) { cb(0, 0) },
    releasedir (_path: string, _fd: number, cb: (err: number) => void) { cb(0) },
    // everything that writes
    write: readOnly, create: readOnly, truncate: readOnly, ftruncate: readOnly, mkdir: readOnly, rmdir: readOnly,
    unlink: readOnly, rename: readOnly, link: readOnly, symlink: readOnly, chmod: readOnly, chown: readOnly,
    utimens: readOnly, mknod: readOnly, setxattr: readOnly, removexattr: readOnly,
    fsync (_path: string, _datasync: number, _fd: number, cb: (err: number) => void) { cb(0) }, // nothing is ever unwritten

    async closeAll () {
      const open = [...handles.values()]
      handles.clear()
      await Promise.all(open.map(async (h) => await h.close()))
    }
  }
}
