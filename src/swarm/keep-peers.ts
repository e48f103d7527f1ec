import { KEEP_ALIVE, type Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'

/**
 * Tags every swarm peer keep-alive once connected: libp2p then redials it when the
 * connection drops, so a peer that restarts (on the same address) comes back.
 */
export function keepPeers (libp2p: Libp2p, log: Logger): () => void {
  const onConnect = (event: CustomEvent): void => {
    const peer = event.detail
    log.info({ peer: peer.toString() }, 'peer connected')
    libp2p.peerStore.merge(peer, { tags: { [KEEP_ALIVE]: { value: 1 } } })
      .catch((err: Error) => log.debug({ err: err.message }, 'could not tag peer'))
  }
  const onDisconnect = (event: CustomEvent): void => { log.info({ peer: event.detail.toString() }, 'peer disconnected') }
  libp2p.addEventListener('peer:connect', onConnect)
  libp2p.addEventListener('peer:disconnect', onDisconnect)
  return () => {
    libp2p.removeEventListener('peer:connect', onConnect)
    libp2p.removeEventListener('peer:disconnect', onDisconnect)
  }
}
