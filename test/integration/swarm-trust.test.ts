import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { loadOrCreateSelfKey } from '@libp2p/config'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { PrivateKey } from '@libp2p/interface'
import { INDEX_TOPIC } from '../../src/index/swarm-index.ts'
import { INDEX_RECORD, seal } from '../../src/index/signed-envelope.ts'
import { createLibp2pOptions, type SwarmServices } from '../../src/swarm/libp2p-options.ts'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { generateSwarmKey } from '../helpers/swarm-key.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'
import { health, waitFor } from '../helpers/wait-for.ts'

const sha = (algorithm: string, bytes: Uint8Array): string => createHash(algorithm).update(bytes).digest('hex')
const LOOPBACK = ['/ip4/127.0.0.1/tcp/0']

async function metric (url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/-/metrics`)).text()
  return Number(pattern.exec(text)?.[1] ?? 0)
}
const rejections = (url: string, reason: string): Promise<number> =>
  metric(url, new RegExp(`dpm_index_records_total\\{outcome="rejected",reason="${reason}"\\} (\\d+)`))

/** A peer identity the test controls, made before the node that will use it starts. */
async function identityIn (dataDir: string): Promise<PrivateKey> {
  const datastore = new LevelDatastore(join(dataDir, 'datastore'))
  await datastore.open()
  try {
    return await loadOrCreateSelfKey(datastore)
  } finally {
    await datastore.close()
  }
}

describe('who the swarm believes', () => {
  const key = generateSwarmKey()
  const swarmKey = new TextEncoder().encode(key)
  const dirs: string[] = []
  let upstream: FakeNpmRegistry
  let evil: TestNode
  let evilKey: PrivateKey
  let victim: TestNode
  let injector: Libp2p<SwarmServices>
  const genuine = randomBytes(40_000)
  const decoy = randomBytes(40_000)

  before(async () => {
    upstream = await startFakeNpmRegistry()
    upstream.publish('target', { version: '1.0.0', tarball: genuine })
    upstream.publish('decoy', { version: '1.0.0', tarball: decoy })

    // the evil peer is a real node of the swarm: trusted, holding the decoy's blocks
    const evilDir = await mkdtemp(join(tmpdir(), 'dpm-evil-'))
    dirs.push(evilDir)
    evilKey = await identityIn(evilDir)
    evil = await startTestNode({ npmUpstream: upstream.url, dataDir: evilDir, settings: { swarm_key: swarmKey, p2p_listen: LOOPBACK } })
    assert.equal((await fetch(`${evil.url}/npm/decoy/-/decoy-1.0.0.tgz`)).status, 200)

    const evilPeer = peerIdFromPrivateKey(evilKey).toString()
    victim = await startTestNode({
      npmUpstream: upstream.url,
      settings: { swarm_key: swarmKey, p2p_listen: LOOPBACK, bootstrap: (await health(evil.url)).multiaddrs, trusted_peers: [evilPeer] }
    })
    dirs.push(victim.dataDir)
    await waitFor('the victim to connect to the evil peer', async () => (await health(victim.url)).peers === 1)

    injector = await createLibp2p(createLibp2pOptions({
      privateKey: await generateKeyPair('Ed25519'), swarmKey, listen: [], bootstrap: [], mdns: false
    }))
    await injector.dial(multiaddr((await health(victim.url)).multiaddrs[0]!))
    injector.services.pubsub.subscribe(INDEX_TOPIC)
    const victimPeer = (await health(victim.url)).peerId
    await waitFor('the victim to join the index topic', () => injector.services.pubsub.getSubscribers(INDEX_TOPIC).some((p) => p.toString() === victimPeer))
  })
  after(async () => {
    await injector?.stop()
    await victim?.stop()
    await evil?.stop()
    await upstream.close()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  const recordFor = (signer: string, cid: string, size: number) => ({
    key: 'npm:tarball:target/-/target-1.0.0.tgz',
    kind: 'artifact',
    cid,
    size,
    digests: [{ algorithm: 'sha512', hex: sha('sha512', genuine) }, { algorithm: 'sha1', hex: sha('sha1', genuine) }],
    upstream: upstream.tarballUrl('target', '1.0.0'),
    fetchedAt: Date.now(),
    peer: signer
  })
  /**
   * Gossip is best-effort, a fresh mesh's first message most of all: the
   * envelope is published again (as a new message) until the victim shows it
   * judged one.
   */
  const gossipUntil = async (envelope: Uint8Array, what: string, judged: () => Promise<boolean>): Promise<void> => {
    await waitFor(what, async () => {
      await injector.services.pubsub.publish(INDEX_TOPIC, dagCbor.encode({ t: 'record', e: envelope }))
      await sleep(500)
      return await judged()
    }, 10_000)
  }

  it('rejects a record whose signature was tampered with', async () => {
    const evilPeer = peerIdFromPrivateKey(evilKey).toString()
    const envelope = await seal(INDEX_RECORD, recordFor(evilPeer, (await victim.node.index.get('npm:tarball:decoy/-/decoy-1.0.0.tgz'))?.cid ?? 'bafkqaaa', 1), evilKey)
    envelope[envelope.byteLength - 1]! ^= 0xff
    await gossipUntil(envelope, 'a signature rejection', async () => await rejections(victim.url, 'signature') >= 1)
    assert.ok(victim.logs.some((l) => l.msg === 'index record rejected' && l.reason === 'signature'))
  })

  it('rejects a correctly signed record from a peer it does not trust', async () => {
    const stranger = await generateKeyPair('Ed25519')
    const envelope = await seal(INDEX_RECORD, recordFor(peerIdFromPrivateKey(stranger).toString(), 'bafkqaaa', 1), stranger)
    await gossipUntil(envelope, 'an untrusted rejection', async () => await rejections(victim.url, 'untrusted') >= 1)
  })

  it('rejects a signed record whose CID holds other bytes, and still serves the right ones', async () => {
    const decoyRecord = await evil.node.index.get('npm:tarball:decoy/-/decoy-1.0.0.tgz')
    assert.ok(decoyRecord)
    const evilPeer = peerIdFromPrivateKey(evilKey).toString()
    const envelope = await seal(INDEX_RECORD, recordFor(evilPeer, decoyRecord.cid, decoy.byteLength), evilKey)
    const accepted = (): Promise<number> => metric(victim.url, /dpm_index_records_total\{outcome="accepted",reason=""\} (\d+)/)
    const acceptedBefore = await accepted() // the evil peer's own records, taken at connection
    await gossipUntil(envelope, 'the victim to accept the record', async () => await accepted() > acceptedBefore)

    const response = await fetch(`${victim.url}/npm/target/-/target-1.0.0.tgz`)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('x-cache'), 'MISS')
    assert.equal(sha('sha512', new Uint8Array(await response.arrayBuffer())), sha('sha512', genuine))
    assert.ok(await rejections(victim.url, 'content') >= 1)
    assert.equal(await metric(victim.url, /^dpm_verification_failures_total\{format="npm",source="peer"\} (\d+)$/m), 1, 'the lying peer\'s bytes are counted as a verification failure')
    assert.equal(upstream.count('/target/-/target-1.0.0.tgz'), 1)
    const { peers } = await health(victim.url)
    assert.ok(peers >= 1)
    assert.equal(await metric(victim.url, /^dpm_peers_connected (\d+)$/m), peers, 'the peers gauge agrees with /-/health')
  })

  it('stays correct and responsive while a peer floods it with records', async () => {
    const evilPeer = peerIdFromPrivateKey(evilKey).toString()
    const stranger = await generateKeyPair('Ed25519')
    const strangerPeer = peerIdFromPrivateKey(stranger).toString()
    const cached = `${victim.url}/npm/decoy/-/decoy-1.0.0.tgz`
    await (await fetch(cached)).arrayBuffer()
    const rejectedBefore = await rejections(victim.url, 'untrusted') + await rejections(victim.url, 'payload') + await rejections(victim.url, 'signature')

    // 3,000 messages as fast as gossip takes them: undecodable bytes, records of an
    // untrusted signer, tampered signatures, and trusted records for keys nobody asked about
    const flood = (async () => {
      for (let i = 0; i < 3000; i++) {
        let data: Uint8Array
        const record = { ...recordFor(i % 4 === 1 ? strangerPeer : evilPeer, 'bafkqaaa', 1), key: `npm:tarball:flood-${i}/-/flood-${i}-1.0.0.tgz` }
        if (i % 4 === 0) data = randomBytes(64)
        else if (i % 4 === 1) data = dagCbor.encode({ t: 'record', e: await seal(INDEX_RECORD, record, stranger) })
        else {
          const envelope = await seal(INDEX_RECORD, record, evilKey)
          if (i % 4 === 2) envelope[envelope.byteLength - 1]! ^= 0xff
          data = dagCbor.encode({ t: 'record', e: envelope })
        }
        await injector.services.pubsub.publish(INDEX_TOPIC, data).catch(() => {})
        if (i % 100 === 0) await sleep(1) // let the sockets drain: a flood, not a local stall
      }
    })()
    // meanwhile the gateway answers as ever, byte for byte
    let served = 0
    while (served < 40) {
      const response = await fetch(cached)
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('x-cache'), 'HIT')
      assert.equal(sha('sha512', new Uint8Array(await response.arrayBuffer())), sha('sha512', decoy))
      served++
    }
    await flood
    await waitFor('the flood to be judged', async () => await rejections(victim.url, 'untrusted') + await rejections(victim.url, 'payload') + await rejections(victim.url, 'signature') > rejectedBefore + 100)
    assert.equal((await health(victim.url)).peers >= 1, true, 'still in the swarm')
    assert.equal((await fetch(`${victim.url}/-/health`)).status, 200)
    // a flooded key that names nothing real is still answered by the upstream's truth: not published
    assert.equal((await fetch(`${victim.url}/npm/flood-2/-/flood-2-1.0.0.tgz`)).status, 404)
  })

  it('refuses connections from a node without the swarm key, or with another', async () => {
    const target = multiaddr((await health(victim.url)).multiaddrs[0]!)
    const keyless = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    const otherKey = await createLibp2p(createLibp2pOptions({
      privateKey: await generateKeyPair('Ed25519'), swarmKey: new TextEncoder().encode(generateSwarmKey()), listen: [], bootstrap: [], mdns: false
    }))
    try {
      await assert.rejects(keyless.dial(target, { signal: AbortSignal.timeout(5000) }))
      await assert.rejects(otherKey.dial(target, { signal: AbortSignal.timeout(5000) }))
    } finally {
      await keyless.stop()
      await otherKey.stop()
    }
  })
})
