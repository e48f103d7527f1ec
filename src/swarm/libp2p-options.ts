import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import type { PeerDiscovery, PrivateKey } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'
import { noiseCrypto } from './noise-crypto.ts'
import { isSeedAddress } from './dial-seeds.ts'

export interface Libp2pOptionsInit {
  privateKey: PrivateKey
  swarmKey: Uint8Array
  listen: string[]
  bootstrap: string[]
  mdns: boolean
}

export type SwarmServices = {
  identify: Identify
  pubsub: GossipSub
}

/**
 * libp2p from explicit parts only, never the public defaults: TCP (the one
 * transport the pre-shared key protects; WebRTC and WebTransport skip it), noise,
 * yamux, identify, gossipsub for the index. Peers come from `DPM_BOOTSTRAP` and
 * mDNS on the LAN; no public bootstrap, DHT or delegated routing.
 */
/**
 * Bytes a stream may hold before its reader listens. Bitswap opens a stream per
 * message and listens only after closing its own write side; meanwhile the whole
 * message lands in this buffer (yamux grants window as bytes arrive, not as they
 * are read). A message carries every block a peer is owed — four 1 MiB leaves
 * are already a few bytes over yamux's 4 MiB default — and a stream over the
 * limit is aborted silently: its blocks are lost and the want stalls until renewed.
 * Room for the 8-leaf want window of several transfers at once.
 */
const YAMUX_READ_BUFFER_BYTES = 64 * 1024 * 1024

export function createLibp2pOptions (init: Libp2pOptionsInit): Libp2pOptions<SwarmServices> {
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  // addresses with a peer id; the others are seeds, dialled by name (`dial-seeds.ts`)
  const known = init.bootstrap.filter((address) => !isSeedAddress(address))
  if (known.length > 0) peerDiscovery.push(bootstrap({ list: known }))
  if (init.mdns) peerDiscovery.push(mdns())
  return {
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux({ streamOptions: { maxReadBufferLength: YAMUX_READ_BUFFER_BYTES } })],
    connectionProtector: preSharedKey({ psk: init.swarmKey }),
    peerDiscovery,
    connectionManager: {
      // swarm peers are tagged keep-alive; a restarting peer is redialed for about two minutes
      reconnectRetries: 10,
      reconnectRetryInterval: 1000,
      reconnectBackoffFactor: 1.5
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        // a lone node still records what it fetches; peers that join later pull the index head
        allowPublishToZeroTopicPeers: true,
        emitSelf: false
      })
    }
  }
}
