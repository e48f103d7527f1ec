import { KEEP_ALIVE, type Libp2p, type PeerInfo } from '@libp2p/interface'
import type { Logger } from 'pino'

/**
 * Dials every peer discovery finds (mDNS on the LAN: libp2p only records them),
 * and tags every swarm peer keep-alive once connected: libp2p then redials it
 * when the connection drops, so a peer that restarts (on the same address) comes
 * back. A private swarm is small and every member is worth a connection; a
 * stranger without the key fails the handshake.
 */
export function keepPeers (libp2p: Libp2p, log: Logger): () => void {
  const onConnect = (event: CustomEvent): void => {
    const peer = event.detail
    log.info({ peer: peer.toString() }, 'peer connected')
    libp2p.peerStore.merge(peer, { tags: { [KEEP_ALIVE]: { value: 1 } } })
      .catch((err: Error) => log.debug({ err: err.message }, 'could not tag peer'))
  }
  const onDisconnect = (event: CustomEvent): void => { log.info({ peer: event.detail.toString() }, 'peer disconnected') }
  const onDiscovery = (event: CustomEvent<PeerInfo>): void => {
    const { id } = event.detail
    if (libp2p.getConnections(id).length > 0) return
    // by peer id: discovery has put its addresses in the peer store
    libp2p.dial(id)
      .catch((err: Error) => log.debug({ peer: id.toString(), err: err.message }, 'could not dial a discovered peer'))
  }
  libp2p.addEventListener('peer:connect', onConnect)
  libp2p.addEventListener('peer:disconnect', onDisconnect)
  libp2p.addEventListener('peer:discovery', onDiscovery)
  return () => {
    libp2p.removeEventListener('peer:discovery', onDiscovery)
    libp2p.removeEventListener('peer:connect', onConnect)
    libp2p.removeEventListener('peer:disconnect', onDisconnect)
  }
}
