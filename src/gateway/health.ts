/** What `/-/health` reports (SPEC "Gateway paths"). */
export interface Health {
  status: 'ok' | 'stopping'
  version: string
  peerId: string
  multiaddrs: string[]
  peers: number
  swarm: boolean
  formats: Array<{ name: string, prefix: string, upstream: string }>
}
