import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'

export const HEAD_PROTOCOL = '/dpm/index-head/1.0.0'
/** A signed head is a few hundred bytes; anything much larger is not one. */
const MAX_HEAD_BYTES = 16 * 1024
const EXCHANGE_TIMEOUT_MS = 10_000

/**
 * Asks every newly identified peer for its signed index head over a stream of
 * its own, and answers the same question. A joining node thus learns each peer's
 * whole index as soon as it connects, without waiting on gossip mesh formation.
 */
export async function startHeadExchange (libp2p: Libp2p, init: {
  currentHead(): Uint8Array | undefined
  onHead(head: Uint8Array, from: PeerId): Promise<void>
  log: Logger
}): Promise<() => Promise<void>> {
  // request, then response: the asker is listening before any answer can arrive
  await libp2p.handle(HEAD_PROTOCOL, async (stream: Stream) => {
    for await (const request of stream) { void request; break }
    const head = init.currentHead()
    if (head !== undefined) stream.send(head)
    await stream.close()
  })

  const ask = (peerId: PeerId, protocols: string[]): void => {
    init.log.debug({ peer: peerId.toString(), speaks: protocols.includes(HEAD_PROTOCOL) }, 'peer identified')
    if (!protocols.includes(HEAD_PROTOCOL)) return
    fetchHead(peerId).catch((err: Error) => { init.log.info({ peer: peerId.toString(), err: err.message }, 'could not get a peer\'s index head') })
  }
  const onIdentify = (event: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => { ask(event.detail.peerId, event.detail.protocols) }

  async function fetchHead (peer: PeerId): Promise<void> {
    const signal = AbortSignal.timeout(EXCHANGE_TIMEOUT_MS)
    const stream = await libp2p.dialProtocol(peer, HEAD_PROTOCOL, { signal })
    signal.addEventListener('abort', () => { stream.abort(new Error('index head exchange timed out')) }, { once: true })
    const chunks: Uint8Array[] = []
    let size = 0
    const response = (async () => {
      for await (const chunk of stream) {
        const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
        size += bytes.byteLength
        if (size > MAX_HEAD_BYTES) { stream.abort(new Error('head too large')); throw new Error('peer sent an oversized head') }
        chunks.push(bytes)
      }
    })()
    stream.send(Uint8Array.of(1))
    await stream.close()
    await response
    init.log.debug({ peer: peer.toString(), bytes: size }, 'received an index head')
    if (size > 0) await init.onHead(Buffer.concat(chunks, size), peer)
  }

  libp2p.addEventListener('peer:identify', onIdentify as never)
  // peers identified before we started listening (bootstrap dials as libp2p starts)
  for (const peerId of libp2p.getPeers()) {
    libp2p.peerStore.get(peerId).then((peer) => { ask(peerId, peer.protocols) }, () => {})
  }
  return async () => {
    libp2p.removeEventListener('peer:identify', onIdentify as never)
    await libp2p.unhandle(HEAD_PROTOCOL)
  }
}
