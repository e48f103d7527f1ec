import { runClientCommand, UsageError } from './client-command.ts'
import { CliError, type NodeClient } from './node-client.ts'

/**
 * `dpm pin [PATH...]` and `dpm unpin PATH...`: what a pin names is a gateway
 * path (`/npm/lodash/-/lodash-4.17.21.tgz`, `/v2/docker.io/library/alpine/manifests/3.20`).
 * `pin` fetches each through the node first, so what is not cached yet is, then
 * pins it, and says what else the pin keeps (an image tag: the manifests and
 * blobs of it the node holds); without paths it lists the pins.
 */
export async function runPin (args: string[]): Promise<number> {
  return await runClientCommand('pin', args, {}, async (node, _values, paths) => {
    if (paths.length === 0) {
      const { pins } = await node.call<{ pins: Array<{ key: string, keeps: string[], missing: string[] }> }>('GET', '/-/api/pins')
      process.stdout.write(pins.length === 0 ? 'nothing is pinned\n' : pins.map((p) => `${p.key}${keeping(p.keeps, p.missing)}\n`).join(''))
      return 0
    }
    return await eachPath('pin', paths, async (path) => {
      await warm(node, path)
      const { key, keeps, missing } = await node.call<{ key: string, keeps: string[], missing: string[] }>('POST', '/-/api/pins', { path })
      process.stdout.write(`pinned ${path} (${key})${keeping(keeps, missing)}\n`)
    })
  })
}

export async function runUnpin (args: string[]): Promise<number> {
  return await runClientCommand('unpin', args, {}, async (node, _values, paths) => {
    if (paths.length === 0) throw new UsageError('name at least one gateway path to unpin')
    return await eachPath('unpin', paths, async (path) => {
      const { key } = await node.call<{ key: string }>('DELETE', '/-/api/pins', { path })
      process.stdout.write(`unpinned ${path} (${key})\n`)
    })
  })
}

/** What a pinned document names (an image tag: its manifests and blobs) is kept with it, as far as the node holds it. */
function keeping (keeps: string[], missing: string[]): string {
  if (keeps.length + missing.length === 0) return ''
  const stored = `, and the ${keeps.length} of the ${keeps.length + missing.length} keys it names that are stored`
  return missing.length === 0 ? stored : `${stored} (fetch the others through the node to keep them too: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`
}

/** Does `work` for each path, the others going on when one fails; exit 1 if any did, each failure on one line. */
async function eachPath (command: string, paths: string[], work: (path: string) => Promise<void>): Promise<number> {
  let failed = 0
  for (const path of paths) {
    try {
      await work(path)
    } catch (err) {
      if (!(err instanceof CliError)) throw err
      process.stderr.write(`dpm ${command}: ${path}: ${err.message}\n`)
      failed++
    }
  }
  return failed === 0 ? 0 : 1
}

/** Fetches a path through the node (pull-through: afterwards it is cached), reading the body to its end. */
async function warm (node: NodeClient, path: string): Promise<void> {
  if (!path.startsWith('/')) throw new CliError('expected a gateway path starting with /')
  const res = await node.fetch(path)
  if (res.body !== null) for await (const _ of res.body);
  if (!res.ok) throw new CliError(`the node answered ${res.status} when fetching it`)
}
