// The part of fuse-native's API the mount uses (the package ships no types).
declare module 'fuse-native' {
  export interface FuseStat { mode: number, size?: number, uid?: number, gid?: number, nlink?: number, mtime?: Date, atime?: Date, ctime?: Date, blocks?: number, blksize?: number }
  export type Callback<T = never> = (err: number, value?: T, ...more: unknown[]) => void
  export interface FuseOperations {
    init?(cb: (err: number) => void): void
    getattr?(path: string, cb: Callback<FuseStat>): void
    readdir?(path: string, cb: (err: number, names?: string[], stats?: FuseStat[]) => void): void
    open?(path: string, flags: number, cb: Callback<number>): void
    read?(path: string, fd: number, buffer: Buffer, length: number, position: number, cb: (bytesOrErr: number) => void): void
    release?(path: string, fd: number, cb: (err: number) => void): void
    statfs?(path: string, cb: Callback<Record<string, number>>): void
    access?(path: string, mode: number, cb: (err: number) => void): void
    [name: string]: ((...args: any[]) => void) | undefined
  }
  export interface FuseOptions {
    force?: boolean, mkdir?: boolean, allowOther?: boolean, fsname?: string, subtype?: string, debug?: boolean
    timeout?: number | false, attrTimeout?: number, entryTimeout?: number, maxRead?: number
  }
  class Fuse {
    constructor (mnt: string, ops: FuseOperations, opts?: FuseOptions)
    readonly mnt: string
    mount(cb: (err: Error | null) => void): void
    unmount(cb: (err: Error | null) => void): void
    protected _fuseOptions(): string
    static unmount(mnt: string, cb: (err: Error | null) => void): void
    static readonly ENOENT: number
    static readonly EIO: number
    static readonly EROFS: number
    static readonly EACCES: number
    static readonly ENAMETOOLONG: number
    static readonly EINVAL: number
    static readonly EISDIR: number
    static readonly ENOTDIR: number
    static readonly ENODATA: number
    static readonly EINTR: number
  }
  export default Fuse
}
