import { lookup } from 'node:dns/promises'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'

/** How often seed names are looked up and dialled again: members behind one name come and go. */
const SEED_INTERVAL_MS = 30_000

const SEED = /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)$/

/** A bootstrap address without a peer id: `/dns4/dpm-peers/tcp/4001`, `/ip4/10.0.0.5/tcp/4001`. */
export function isSeedAddress (address: string): boolean {
  return SEED.test(address)
}

/**
 * Dials every address a seed resolves to — a Kubernetes headless Service or a
 * compose service name stands for all the swarm's members — at start and every
 * 30 s. No peer id is needed: only holders of the swarm key get through the
 * handshake, and noise then names the peer; keep-peers holds the connection.
 */
export function dialSeeds (libp2p: Libp2p, seeds: string[], log: Logger): () => void {
  if (seeds.length === 0) return () => {}
  const round = async (): Promise<void> => {
    const connected = new Set(libp2p.getConnections().map((c) => c.remoteAddr.toString()))
    for (const seed of seeds) {
      const [, protocol, host, port] = SEED.exec(seed)!
      const addresses = protocol!.startsWith('dns')
        ? await lookup(host!, { all: true, family: protocol === 'dns4' ? 4 : protocol === 'dns6' ? 6 : 0 }).catch((err: Error) => {
          log.debug({ seed, err: err.message }, 'seed name did not resolve')
          return []
        })
        : [{ address: host!, family: protocol === 'ip6' ? 6 : 4 }]
      for (const { address, family } of addresses) {
        const target = multiaddr(`/ip${family}/${address}/tcp/${port}`)
        if (connected.has(target.toString())) continue
        // our own address among them fails the dial to self: harmless
        libp2p.dial(target).catch((err: Error) => log.debug({ seed, address: target.toString(), err: err.message }, 'could not dial a seed address'))
      }
    }
  }
  void round()
  const timer = setInterval(() => { void round() }, SEED_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
