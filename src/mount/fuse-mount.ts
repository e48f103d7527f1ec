import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { access, mkdir, readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import type FuseClass from 'fuse-native'
import type { FuseOperations } from 'fuse-native'

const run = promisify(execFile)

/** FUSE cannot be used here (no `/dev/fuse`, no libfuse, no right to mount): the reason, for one log line. */
export class FuseUnavailableError extends Error {
  static override name = 'FuseUnavailableError'
  override name = 'FuseUnavailableError'
}

/**
 * The binding is fuse-native: N-API prebuilds ship in the package (nothing is
 * built or downloaded at install), it links Debian's libfuse2 (`libfuse2`), and it
 * runs libfuse's multi-threaded loop on threads of its own, handing each request
 * to the event loop; a blocking `/dev/fuse` read never takes one of libuv's
 * threadpool threads, which the store's file I/O needs. Loaded only when a mount
 * is asked for, so a host without libfuse runs the node without it.
 */
async function loadFuse (): Promise<typeof FuseClass> {
  try {
    await access('/dev/fuse', constants.R_OK | constants.W_OK)
  } catch (err) {
    throw new FuseUnavailableError(`/dev/fuse cannot be opened (${(err as NodeJS.ErrnoException).code}); a container needs --device /dev/fuse --cap-add SYS_ADMIN`)
  }
  try {
    return (await import('fuse-native')).default
  } catch (err) {
    throw new FuseUnavailableError(`libfuse could not be loaded (${(err as Error).message.split('\n')[0]}); install Debian's libfuse2 and fuse3`)
  }
}

/** A mounted tree: `close` unmounts it, waiting for nothing but the kernel. */
export interface Mounted {
  dir: string
  close(): Promise<void>
}

/** Mounts `ops` read-only at `dir`, after clearing a stale mount a crashed node left there. */
export async function mountFuse (dir: string, ops: FuseOperations & { closeAll?(): Promise<void> }): Promise<Mounted> {
  const Fuse = await loadFuse()
  dir = resolve(dir)
  await clearStale(dir)
  await mkdir(dir, { recursive: true })

  // fuse-native knows no `ro`: the kernel itself then refuses writes, creates and
  // renames with EROFS before they reach the operations
  class ReadOnlyFuse extends Fuse {
    protected override _fuseOptions (): string {
      const options = super._fuseOptions()
      return options === '' ? '-oro' : `${options},ro`
    }
  }
  // allow_other: apt's methods read as the `_apt` user, a web server as its own
  const fuse = new ReadOnlyFuse(dir, ops, { allowOther: true, fsname: 'dpm', subtype: 'dpm', timeout: 150_000 })
  try {
    await new Promise<void>((ok, fail) => fuse.mount((err) => err === null ? ok() : fail(err)))
  } catch (err) {
    const message = (err as Error).message
    throw new FuseUnavailableError(`could not mount ${dir}: ${message}`, { cause: err })
  }
  let closed: Promise<void> | undefined
  return {
    dir,
    close: async () => {
      closed ??= (async () => {
        await ops.closeAll?.()
        await new Promise<void>((ok) => fuse.unmount(() => ok()))
        // the binding's own unmount is lazy; make sure nothing is left mounted
        if (await isMounted(dir)) await unmountDir(dir)
      })()
      await closed
    }
  }
}

/** Whether `dir` is a mount point now (`/proc/self/mountinfo`, octal escapes as the kernel writes them). */
export async function isMounted (dir: string): Promise<boolean> {
  const target = resolve(dir)
  const info = await readFile('/proc/self/mountinfo', 'utf8')
  return info.split('\n').some((line) => line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) === target)
}

/**
 * A mount whose process died answers every call with ENOTCONN ("Transport
 * endpoint is not connected"): unmounted before mounting again.
 */
export async function clearStale (dir: string): Promise<boolean> {
  try {
    await stat(dir)
    return false
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTCONN') return false
  }
  await unmountDir(dir, { lazy: true })
  return true
}

/**
 * `fusermount3 -u` (Debian's fuse3; works for the mount's owner without root),
 * lazily (`-z`) when something still has the tree open; `umount` where
 * fusermount3 is missing.
 */
export async function unmountDir (dir: string, options: { lazy?: boolean } = {}): Promise<void> {
  const target = resolve(dir)
  const attempts: [string, string[]][] = [
    ...options.lazy === true ? [] : [['fusermount3', ['-u', target]] as [string, string[]]],
    ['fusermount3', ['-uz', target]],
    ['umount', ['-l', target]]
  ]
  let last: Error | undefined
  for (const [command, args] of attempts) {
    try {
      await run(command, args, { timeout: 10_000 })
      return
    } catch (err) {
      last = err as Error
    }
  }
  throw new Error(`could not unmount ${target}: ${last?.message.trim()}`, { cause: last })
}
