import bytes from 'bytes'
import { OUTCOMES } from '../node/activity.ts'
import type { NodeStatus } from '../node/node-status.ts'
import { runClientCommand, UsageError } from './client-command.ts'

/** How many of the node's recent fetches the terminal shows. */
const RECENT_LINES = 10

/** `dpm status [--url URL] [--json] [--config FILE]`: what the dashboard shows, from a running node. */
export async function runStatus (args: string[]): Promise<number> {
  return await runClientCommand('status', args, { json: { type: 'boolean' } }, async (node, values, positionals) => {
    if (positionals.length > 0) throw new UsageError(`status takes no arguments (got ${positionals.join(' ')})`)
    const status = await node.call<NodeStatus>('GET', '/-/api/status')
    process.stdout.write(values.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status))
    return 0
  })
}

const size = (n: number): string => bytes.format(n, { unitSeparator: ' ', decimalPlaces: 1 }) ?? `${n} B`
const percent = (ratio: number | null): string => ratio === null ? '-' : `${(ratio * 100).toFixed(1)}%`

/** The status as lines for a terminal. */
export function formatStatus (status: NodeStatus): string {
  const { node, peers, store } = status
  const lines = [
    `node      ${node.peerId}`,
    `version   dpm ${node.version} (${node.status})`,
    `public    ${node.publicUrl}`,
    `swarm     ${node.swarm ? `on, ${peers.length} ${peers.length === 1 ? 'peer' : 'peers'}` : 'off (no swarm key: running alone)'}`
  ]
  for (const addr of node.multiaddrs) lines.push(`listen    ${addr}`)
  for (const peer of peers) lines.push(`peer      ${peer.id}${peer.addresses.length > 0 ? `  ${peer.addresses.join(' ')}` : ''}`)
  const share = store.limitBytes > 0 ? ` (${((store.usedBytes / store.limitBytes) * 100).toFixed(1)}%)` : ''
  lines.push(`store     ${size(store.usedBytes)} of ${size(store.limitBytes)}${share}, ${store.pinned} pinned`, '')

  const width = Math.max(6, ...status.formats.map((f) => f.name.length))
  lines.push(`${'format'.padEnd(width)}  ${OUTCOMES.map((o) => o.padStart(6)).join(' ')}  ${'hit'.padStart(6)}  ${'peers'.padStart(6)}`)
  for (const f of status.formats) {
    lines.push(`${f.name.padEnd(width)}  ${OUTCOMES.map((o) => String(f.responses[o]).padStart(6)).join(' ')}  ${percent(f.hitRatio).padStart(6)}  ${percent(f.peerRatio).padStart(6)}`)
  }

  lines.push('', status.recent.length === 0 ? 'recent    nothing fetched yet' : 'recent')
  for (const f of status.recent.slice(0, RECENT_LINES)) {
    lines.push(`  ${new Date(f.at).toISOString().slice(11, 19)}  ${f.cache.padEnd(5)}  ${String(f.status)}  ${f.method.padEnd(4)}  ${f.path}  ${f.ms} ms`)
  }
  return `${lines.join('\n')}\n`
}
