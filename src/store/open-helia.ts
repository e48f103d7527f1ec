import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { loadOrCreateSelfKey } from '@libp2p/config'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { Registry } from 'prom-client'
import { LevelDatastore } from 'datastore-level'
import type { Helia } from 'helia'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { SwarmServices } from '../swarm/libp2p-options.ts'
import { createHeliaLight } from './helia-light.ts'
import { WholeFileBlockstore } from './whole-file-blockstore.ts'

export interface OpenHeliaInit {
  dataDir: string
  /** Without a swarm key the node has no libp2p at all: it runs alone. */
  swarmKey?: Uint8Array
  listen: string[]
  bootstrap: string[]
  mdns: boolean
  /** libp2p and Bitswap metrics (per-peer bytes received, among others) go here. */
  registry?: Registry
}

export interface HeliaNode {
  helia: Helia
  /** The blockstore under Helia's: this node's own block files. */
  blockFiles: WholeFileBlockstore
  /** Present only when the node is in a swarm. */
  libp2p?: Libp2p<SwarmServices>
  peerId: PeerId
  privateKey: PrivateKey
  /** The blocks a swarm peer has asked this node for and not yet received (Bitswap's ledger). */
  wantsFrom(peer: PeerId): CID[] | undefined
  stop(): Promise<void>
}

/** The part of Bitswap's broker this node reads: what each peer wants from it. */
interface BitswapBroker { name: string, bitswap?: { getPeerWantlist(peer: PeerId): Array<{ cid: CID }> | undefined } }

/**
 * The embedded IPFS node: blocks in `blockstore-fs`, everything else in
 * `datastore-level`, both under the data dir. The peer identity lives in the
 * datastore, so it survives restarts with or without a swarm. With a swarm key,
 * Bitswap serves and fetches blocks among the swarm's peers.
 */
export async function openHelia (init: OpenHeliaInit): Promise<HeliaNode> {
  await mkdir(init.dataDir, { recursive: true })
  const blockstore = new WholeFileBlockstore(join(init.dataDir, 'blocks'))
  const datastore = new LevelDatastore(join(init.dataDir, 'datastore'))
  await blockstore.open()
  await datastore.open()
  const privateKey = await loadOrCreateSelfKey(datastore)

  const metrics = init.registry === undefined
    ? undefined
    : prometheusMetrics({ registry: init.registry, collectDefaultMetrics: false, preserveExistingMetrics: true })({ logger: defaultLogger() })
  const light = await createHeliaLight({ blockstore, datastore, metrics })
  let libp2p: Libp2p<SwarmServices> | undefined
  if (init.swarmKey !== undefined) {
    // loaded only for a swarm: with helia-light.ts, an idle node on its own holds ~121 MB, not ~184
    const [{ withBitswap }, { withLibp2pLight }, { bitswapOptions }, { createLibp2pOptions }] = await Promise.all([
      import('@helia/bitswap'), import('@helia/libp2p'), import('../swarm/bitswap-options.ts'), import('../swarm/libp2p-options.ts')
    ])
    const options = { ...createLibp2pOptions({ ...init, privateKey, swarmKey: init.swarmKey }), metrics: metrics && (() => metrics) }
    const networked = withBitswap(withLibp2pLight(light, options), bitswapOptions)
    await networked.start()
    libp2p = networked.libp2p
  } else {
    await light.start()
  }

  const bitswap = (light as unknown as { blockBrokers: BitswapBroker[] }).blockBrokers.find((b) => b.name === 'bitswap')?.bitswap
  return {
    helia: light,
    blockFiles: blockstore,
    libp2p,
    wantsFrom: (peer) => bitswap?.getPeerWantlist(peer)?.map((want) => want.cid),
    peerId: peerIdFromPrivateKey(privateKey),
    privateKey,
    async stop () {
      await light.stop()
      await datastore.close()
      await blockstore.close()
    }
  }
}
