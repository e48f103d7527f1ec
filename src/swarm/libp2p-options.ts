import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import type { PrivateKey } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'

export interface Libp2pOptionsInit {
  privateKey: PrivateKey
  swarmKey: Uint8Array
  listen: string[]
}

/**
 * libp2p from explicit parts only, never the public defaults: TCP (the one
 * transport the pre-shared key protects; WebRTC and WebTransport skip it), noise,
 * yamux, identify. No public bootstrap, DHT or delegated routing.
 */
export function createLibp2pOptions (init: Libp2pOptionsInit): Libp2pOptions<{ identify: ReturnType<ReturnType<typeof identify>> }> {
  return {
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: preSharedKey({ psk: init.swarmKey }),
    peerDiscovery: [],
    services: { identify: identify() }
  }
}
