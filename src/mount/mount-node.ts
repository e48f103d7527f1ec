import type { Logger } from 'pino'
import { createFuseOperations } from './fuse-ops.ts'
import { FuseUnavailableError, mountFuse, type Mounted } from './fuse-mount.ts'
import { createNodeFiles } from './node-files.ts'

/**
 * Mounts the tree of the node at `baseUrl` on `dir`. Where FUSE cannot be had
 * (no `/dev/fuse`, a container without SYS_ADMIN, no libfuse) it says so in one
 * warning and answers undefined: a node runs on without its mount.
 */
export async function mountNodeTree (dir: string, baseUrl: string, log: Pick<Logger, 'info' | 'warn'>): Promise<Mounted | undefined> {
  const ops = createFuseOperations(createNodeFiles(baseUrl), { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 })
  try {
    const mounted = await mountFuse(dir, ops)
    log.info({ dir: mounted.dir }, 'cache mounted (read-only)')
    return mounted
  } catch (err) {
    if (!(err instanceof FuseUnavailableError)) throw err
    log.warn({ dir, reason: err.message }, 'FUSE is unavailable: running without the mount')
    return undefined
  }
}

/** The gateway as this host reaches it: a wildcard listen address is reached on loopback. */
export function loopbackUrl (host: string, port: number): string {
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}`
  if (host === '::' || host === '[::]') return `http://[::1]:${port}`
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}
