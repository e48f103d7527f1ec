import { parseArgs } from 'node:util'
import bytes from 'bytes'
import type { CollectReport } from '../store/store-keeper.ts'
import { CliError, connectToNode } from './node-client.ts'

const size = (n: number): string => bytes.format(n, { unitSeparator: ' ', decimalPlaces: 1 }) ?? `${n} B`

/** `dpm gc [--url URL]`: the running node enforces its store limit now, and says what it evicted. */
export async function runGc (args: string[]): Promise<number> {
  let values
  try {
    values = parseArgs({ args, options: { url: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string', short: 'c' } } }).values
  } catch (err) {
    process.stderr.write(`dpm gc: ${(err as Error).message}\n`)
    return 2
  }
  try {
    const node = await connectToNode({ url: values.url, configFile: values.config })
    const report = await node.call<CollectReport>('POST', '/-/api/gc')
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    } else {
      for (const { key, size: s } of report.evicted) process.stdout.write(`evicted ${key} (${size(s)})\n`)
      process.stdout.write(`${report.evicted.length} evicted, ${report.deletedBlocks} blocks deleted, ${size(report.freedBytes)} freed; store ${size(report.usedBytes)} of ${size(report.limitBytes)}\n`)
      if (report.overLimit) process.stdout.write('still over the limit: what is left is pinned, being read, or was used moments ago\n')
    }
    return 0
  } catch (err) {
    if (!(err instanceof CliError)) throw err
    process.stderr.write(`dpm gc: ${err.message}\n`)
    return 1
  }
}
