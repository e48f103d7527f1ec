import { createRequire } from 'node:module'

/**
 * What `native/packument.cc` makes of a packument's bytes: its name, the
 * abbreviated document with every tarball link missing its base URL (inserted at
 * `bases`), and each version's id, tarball, integrity and shasum, four entries
 * per version. Undefined when the JS path must decide (see the addon's header).
 */
export type NativeAbbreviation = [name: string, body: Buffer, bases: number[], dists: Array<string | undefined>]

interface PackumentAddon {
  abbreviate(bytes: Uint8Array): NativeAbbreviation | undefined
  /** The same, worked out on libuv's thread pool; `bytes` must not change until it settles. */
  abbreviateOffThread(bytes: Uint8Array): Promise<NativeAbbreviation | undefined>
}

/** The addon, if `native/build.sh` could build it at install (a C++ compiler and Node's headers). */
export function loadPackumentAddon (): PackumentAddon | undefined {
  try {
    return createRequire(import.meta.url)('../../native/build/packument.node') as PackumentAddon
  } catch {
    return undefined
  }
}
