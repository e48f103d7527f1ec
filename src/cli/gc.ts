import bytes from 'bytes'
import type { CollectReport } from '../store/store-keeper.ts'
import { runClientCommand, UsageError } from './client-command.ts'

const size = (n: number): string => bytes.format(n, { unitSeparator: ' ', decimalPlaces: 1 }) ?? `${n} B`

/** `dpm gc [--url URL] [--json]`: the running node enforces its store limit now, and says what it evicted. */
export async function runGc (args: string[]): Promise<number> {
  return await runClientCommand('gc', args, { json: { type: 'boolean' } }, async (node, values, positionals) => {
    if (positionals.length > 0) throw new UsageError(`gc takes no arguments (got ${positionals.join(' ')})`)
    const report = await node.call<CollectReport>('POST', '/-/api/gc')
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
      return 0
    }
    for (const { key, size: s } of report.evicted) process.stdout.write(`evicted ${key} (${size(s)})\n`)
    process.stdout.write(`${report.evicted.length} evicted, ${report.deletedBlocks} blocks deleted, ${size(report.freedBytes)} freed; store ${size(report.usedBytes)} of ${size(report.limitBytes)}\n`)
    if (report.overLimit) process.stdout.write('still over the limit: what is left is pinned, being read, or was used moments ago\n')
    return 0
  })
}
