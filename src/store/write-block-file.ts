import { writeFile } from 'node:fs'
import { mkdir, rename, unlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { promisify } from 'node:util'

/** `native/block-file.c`: a block file written whole in one trip to libuv's thread pool. */
export interface BlockFileAddon {
  /** Resolves once `file` holds `bytes`; rejects with the errno's `code`, no temporary file left. `bytes` must not change meanwhile. */
  write(temporary: string, file: string, bytes: Uint8Array): Promise<void>
}

/** The addon, if `native/build.sh` could build it at install (Linux, a C compiler, Node's headers). */
export function loadBlockFileAddon (): BlockFileAddon | undefined {
  try {
    return createRequire(import.meta.url)('../../native/build/block-file.node') as BlockFileAddon
  } catch {
    return undefined
  }
}

const addon = loadBlockFileAddon()
/** Whether block files are written by the addon (else by Node's fs). */
export const NATIVE_BLOCK_FILES = addon !== undefined

/**
 * Writes `bytes` to `file` whole or not at all: into `temporary` beside it, then
 * renamed over it, the directory made only when the write finds it missing. With
 * the addon that is one trip to the thread pool; Node's fs makes four (open,
 * write, close, rename), each a pool thread woken and a callback on the event
 * loop: ~0.2 s of a cold install's CPU in `bench/cold-cpu`, where ~900 blocks
 * are written.
 */
export async function writeBlockFile (temporary: string, file: string, bytes: Uint8Array, init: { native?: boolean } = {}): Promise<void> {
  if (addon !== undefined && init.native !== false) {
    await addon.write(temporary, file, bytes)
    return
  }
  try {
    await writeWhole(temporary, bytes)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    await mkdir(dirname(file), { recursive: true })
    await writeWhole(temporary, bytes)
  }
  try {
    await rename(temporary, file)
  } catch (err) {
    await unlink(temporary).catch(() => {})
    throw err
  }
}

// the callback API: the promise one opens a FileHandle object per file
const writeWhole = promisify(writeFile)
