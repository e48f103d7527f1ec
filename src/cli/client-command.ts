import { parseArgs, type ParseArgsConfig } from 'node:util'
import { CliError, connectToNode, type NodeClient } from './node-client.ts'

/** Bad usage: exit 2, the message on one line. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>

/**
 * Runs a client command: parses its arguments (with `--url` and `--config`, as
 * every client command takes), connects to the node, and turns failures into
 * one line on stderr — exit 1 for the node's refusals or absence, 2 for bad usage.
 */
export async function runClientCommand<O extends Options> (name: string, args: string[], options: O, work: (node: NodeClient, values: Record<string, unknown>, positionals: string[]) => Promise<number>): Promise<number> {
  try {
    const parsed = parseArgs({ args, allowPositionals: true, options: { url: { type: 'string' }, config: { type: 'string', short: 'c' }, ...options } })
    const values = parsed.values as Record<string, unknown>
    const positionals = parsed.positionals
    const connect = async (): Promise<NodeClient> => await connectToNode({ url: values.url as string | undefined, configFile: values.config as string | undefined })
    let node: NodeClient | undefined
    const lazy: NodeClient = {
      get url () { return node?.url ?? '' },
      call: async (method, path, body) => await (node ??= await connect()).call(method, path, body),
      fetch: async (path, init) => await (node ??= await connect()).fetch(path, init)
    }
    return await work(lazy, values, positionals)
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`dpm ${name}: ${err.message}\n`)
      return 1
    }
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true) {
      process.stderr.write(`dpm ${name}: ${(err as Error).message}\n`)
      return 2
    }
    throw err
  }
}
