import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

/**
 * The registry this host's npm uses: the node never hard-codes a registry address.
 * Returns undefined when npm is not installed or has no registry configured.
 */
export async function defaultNpmRegistry (signal?: AbortSignal): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('npm', ['config', 'get', 'registry'], { signal, timeout: 15_000 })
    const url = stdout.trim()
    if (!/^https?:\/\//.test(url)) return undefined
    return url.endsWith('/') ? url : `${url}/`
  } catch {
    return undefined
  }
}
