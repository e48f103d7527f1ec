import { runClientCommand, UsageError } from './client-command.ts'
import { CliError } from './node-client.ts'

/**
 * `dpm mount DIR [--url URL]`: the read-only FUSE view of a running node's cache
 * at DIR, until SIGINT or SIGTERM, then unmounted. `dpm umount DIR`: unmounts it
 * (also a mount a crashed process left behind).
 */
export async function runMount (args: string[]): Promise<number> {
  return await runClientCommand('mount', args, {}, async (node, _values, positionals) => {
    if (positionals.length !== 1) throw new UsageError('usage: dpm mount DIR [--url URL]')
    const { FuseUnavailableError, mountFuse } = await import('../mount/fuse-mount.ts')
    const { createFuseOperations } = await import('../mount/fuse-ops.ts')
    const { createNodeFiles } = await import('../mount/node-files.ts')
    await node.call('GET', '/-/health') // a node that does not answer is reported before anything is mounted
    const ops = createFuseOperations(createNodeFiles(node.url), { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 })
    let mounted
    try {
      mounted = await mountFuse(positionals[0]!, ops)
    } catch (err) {
      if (err instanceof FuseUnavailableError) throw new CliError(err.message)
      throw err
    }
    process.stdout.write(`mounted ${node.url} at ${mounted.dir} (read-only); Ctrl-C or \`dpm umount ${mounted.dir}\` to unmount\n`)
    const signal = await new Promise<string>((resolve) => {
      for (const name of ['SIGINT', 'SIGTERM'] as const) process.once(name, () => resolve(name))
    })
    await mounted.close()
    process.stdout.write(`unmounted ${mounted.dir} (${signal})\n`)
    return 0
  })
}

export async function runUmount (args: string[]): Promise<number> {
  if (args.length !== 1 || args[0]!.startsWith('-')) {
    process.stderr.write('dpm umount: usage: dpm umount DIR\n')
    return 2
  }
  const { isMounted, unmountDir } = await import('../mount/fuse-mount.ts')
  try {
    if (!(await isMounted(args[0]!))) {
      process.stderr.write(`dpm umount: ${args[0]} is not mounted\n`)
      return 1
    }
    await unmountDir(args[0]!)
    return 0
  } catch (err) {
    process.stderr.write(`dpm umount: ${(err as Error).message}\n`)
    return 1
  }
}
