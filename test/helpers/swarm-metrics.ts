import type { SpawnedNode } from './spawn-node.ts'

/** Bytes the node's Bitswap sent and received so far, from its libp2p metrics. */
export async function bitswapBytes (node: SpawnedNode): Promise<{ sent: number, received: number }> {
  const text = await (await fetch(`${node.url}/-/metrics`)).text()
  const read = (direction: string): number => Number(new RegExp(`libp2p_data_transfer_bytes_total\\{protocol="/ipfs/bitswap/1\\.2\\.0 ${direction}"\\} (\\d+)`).exec(text)?.[1] ?? 0)
  return { sent: read('sent'), received: read('received') }
}

/** Bytes of blocks the node used, by the peer whose copy arrived first (its dpm_peer_received_bytes_total). */
export async function bytesBySender (node: SpawnedNode): Promise<Map<string, number>> {
  const text = await (await fetch(`${node.url}/-/metrics`)).text()
  return new Map([...text.matchAll(/^dpm_peer_received_bytes_total\{peer="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]))
}
