import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { loadOrCreateSelfKey } from '@libp2p/config'
import { withLibp2pLight } from '@helia/libp2p'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { FsBlockstore } from 'blockstore-fs'
import { LevelDatastore } from 'datastore-level'
import { createHeliaLight, type Helia } from 'helia'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { createLibp2pOptions } from '../swarm/libp2p-options.ts'

export interface OpenHeliaInit {
  dataDir: string
  /** Without a swarm key the node has no libp2p at all: it runs alone. */
  swarmKey?: Uint8Array
  listen: string[]
}

export interface HeliaNode {
  helia: Helia
  /** Present only when the node is in a swarm. */
  libp2p?: Libp2p
  peerId: PeerId
  stop(): Promise<void>
}

/**
 * The embedded IPFS node: blocks in `blockstore-fs`, everything else in
 * `datastore-level`, both under the data dir. The peer identity lives in the
 * datastore, so it survives restarts with or without a swarm.
 */
export async function openHelia (init: OpenHeliaInit): Promise<HeliaNode> {
  await mkdir(init.dataDir, { recursive: true })
  const blockstore = new FsBlockstore(join(init.dataDir, 'blocks'))
  const datastore = new LevelDatastore(join(init.dataDir, 'datastore'))
  await blockstore.open()
  await datastore.open()
  const privateKey = await loadOrCreateSelfKey(datastore)

  const light = createHeliaLight({ blockstore, datastore })
  const helia = init.swarmKey === undefined
    ? light
    : withLibp2pLight(light, createLibp2pOptions({ privateKey, swarmKey: init.swarmKey, listen: init.listen }))
  await helia.start()

  return {
    helia,
    libp2p: 'libp2p' in helia ? helia.libp2p as Libp2p : undefined,
    peerId: peerIdFromPrivateKey(privateKey),
    async stop () {
      await helia.stop()
      await datastore.close()
      await blockstore.close()
    }
  }
}
