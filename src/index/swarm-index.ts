import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import type { PrivateKey } from '@libp2p/interface'
import type { Libp2p } from '@libp2p/interface'
import type { SwarmServices } from '../swarm/libp2p-options.ts'
import { startHeadExchange } from './head-exchange.ts'
import type { Logger } from 'pino'
import type { Metrics } from '../node/metrics.ts'
import type { IndexRecord } from './index-record.ts'
import type { LocalIndex } from './local-index.ts'
import { encodeManifest } from './metadata-manifest.ts'
import type { PeerIndex } from './peer-index.ts'
import { fromPayload, toPayload } from './record-codec.ts'
import { EnvelopeError, INDEX_HEAD, INDEX_RECORD, INDEX_WITHDRAWAL, open, seal, type EnvelopeKind } from './signed-envelope.ts'
import { readSnapshot, writeSnapshot } from './index-snapshot.ts'
import type { TrustPolicy } from './trust-policy.ts'

export const INDEX_TOPIC = '/dpm/index/1'

/** A record as the swarm shares it: for metadata, `cid` is the manifest's. */
export type SwarmRecord = IndexRecord & { peer: string }

/**
 * The signed name index: every record this node makes is signed with its libp2p
 * key, spread over gossipsub, and kept in a snapshot whose signed head peers ask
 * for when they connect (and hear over gossip when it changes). Records from peers are accepted only with a valid signature from
 * a trusted peer; every rejection is logged with its reason and counted.
 */
export interface SwarmIndex {
  publish(record: IndexRecord): Promise<void>
  lookup(key: string): Promise<SwarmRecord[]>
  /** This node evicted the key: peers are told to stop asking it, and the next snapshot leaves it out. */
  withdraw(key: string): Promise<void>
  /** Blocks the shared index needs kept: the current snapshot's and the metadata manifests'. */
  liveBlocks(): CID[]
  /** The peer served bytes other than its record promised. */
  reject(record: SwarmRecord, reason: string): void
  isBad(peer: string): boolean
  stop(): Promise<void>
}

export interface SwarmIndexComponents {
  libp2p: Libp2p<SwarmServices>
  privateKey: PrivateKey
  peerId: string
  localIndex: LocalIndex
  peerIndex: PeerIndex
  blocks: { put(cid: CID, bytes: Uint8Array): Promise<unknown>, get(cid: CID, options: { signal: AbortSignal }): Promise<Uint8Array>, delete?(cid: CID): Promise<unknown> }
  trust: TrustPolicy
  metrics: Metrics
  log: Logger
}

/** Changes are gathered this long before a new snapshot is written and its head announced. */
const SNAPSHOT_DELAY_MS = 1000
/** How long a joining node waits for a peer's snapshot blocks. */
const SNAPSHOT_FETCH_MS = 60_000

type Message = { t: 'record' | 'head' | 'gone', e: Uint8Array }

export function createSwarmIndex (components: SwarmIndexComponents): SwarmIndex {
  const { libp2p, privateKey, peerId, localIndex, peerIndex, blocks, trust, metrics, log } = components
  const pubsub = libp2p.services.pubsub
  /** The latest signed envelope per key: a snapshot re-signs only what changed, and superseded envelopes are dropped. */
  const signatures = new Map<string, { id: string, envelope: Uint8Array }>()
  const headSeqs = new Map<string, number>()
  /** The manifest block each metadata key is shared as, and the blocks of the snapshot last written. */
  const manifests = new Map<string, CID>()
  let snapshotBlocks: CID[] = []
  let head: Uint8Array | undefined
  let timer: NodeJS.Timeout | undefined
  const stopped = new AbortController()

  const rejected = (reason: string, detail: string, from?: string): void => {
    metrics.indexRecords.inc({ outcome: 'rejected', reason })
    log.warn({ reason, from, detail }, 'index record rejected')
  }

  /** The record as peers see it: metadata points at a manifest block. */
  async function toSwarmRecord (record: IndexRecord): Promise<SwarmRecord> {
    let cid = record.cid
    if (record.kind === 'metadata') {
      const manifest = await encodeManifest(record)
      await blocks.put(manifest.cid, manifest.bytes)
      manifests.set(record.key, manifest.cid)
      cid = manifest.cid.toString()
    }
    return { ...record, cid, peer: peerId }
  }

  async function sign (record: IndexRecord): Promise<Uint8Array> {
    const id = `${record.cid}|${record.fetchedAt}`
    const cached = signatures.get(record.key)
    if (cached?.id === id) return cached.envelope
    const envelope = await seal(INDEX_RECORD, toPayload(await toSwarmRecord(record)), privateKey)
    signatures.set(record.key, { id, envelope })
    return envelope
  }

  async function send (message: Message): Promise<void> {
    try {
      await pubsub.publish(INDEX_TOPIC, dagCbor.encode(message))
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'gossip publish failed')
    }
  }

  async function writeHead (): Promise<void> {
    const envelopes: Uint8Array[] = []
    for await (const record of localIndex.all()) envelopes.push(await sign(record))
    const written: CID[] = []
    const root = await writeSnapshot(envelopes, { put: async (cid, bytes) => { written.push(cid); return await blocks.put(cid, bytes) } })
    // the snapshot before this one goes at once (a peer still reading it asks again for the new head): rewritten at every change, it would pile up
    const current = new Set(written.map(String))
    const superseded = snapshotBlocks.filter((cid) => !current.has(cid.toString()))
    snapshotBlocks = written
    for (const cid of superseded) await blocks.delete?.(cid).catch(() => {})
    head = await seal(INDEX_HEAD, { root, seq: Date.now(), count: envelopes.length }, privateKey)
    log.debug({ root: root.toString(), count: envelopes.length }, 'index snapshot written')
    await send({ t: 'head', e: head })
  }

  function scheduleHead (): void {
    if (timer !== undefined || stopped.signal.aborted) return
    timer = setTimeout(() => {
      timer = undefined
      writeHead().catch((err: Error) => log.warn({ err: err.message }, 'index snapshot failed'))
    }, SNAPSHOT_DELAY_MS)
  }

  /**
   * An envelope's signer and payload, when it is validly signed by a trusted
   * peer other than this node; any other is counted and logged as rejected
   * (`what` names the kind in the log), or ignored when it is this node's own.
   */
  async function openTrusted (kind: EnvelopeKind, envelope: Uint8Array, what: string, from?: string): Promise<{ signer: string, payload: unknown } | undefined> {
    let opened
    try {
      opened = await open(kind, envelope)
    } catch (err) {
      rejected('signature', `${what}${(err as EnvelopeError).message}`, from)
      return undefined
    }
    const signer = opened.signer.toString()
    if (signer === peerId) return undefined
    if (!trust(signer)) { rejected('untrusted', `${what}signed by ${signer}`, signer); return undefined }
    return { signer, payload: opened.payload }
  }

  /** Verifies and stores one envelope; `expected` is the peer whose snapshot it came in. */
  async function accept (envelope: Uint8Array, expected?: string): Promise<void> {
    const opened = await openTrusted(INDEX_RECORD, envelope, '', expected)
    if (opened === undefined) return
    const { signer } = opened
    const record = fromPayload(opened.payload)
    if (record === undefined || record.peer !== signer || (expected !== undefined && expected !== signer)) {
      rejected('payload', 'malformed record, or one that names another peer than its signer', signer)
      return
    }
    if (await peerIndex.add(record as SwarmRecord)) metrics.indexRecords.inc({ outcome: 'accepted', reason: '' })
  }

  async function acceptWithdrawal (envelope: Uint8Array): Promise<void> {
    const opened = await openTrusted(INDEX_WITHDRAWAL, envelope, 'withdrawal: ')
    if (opened === undefined) return
    const { signer } = opened
    const { key, at } = opened.payload as { key?: unknown, at?: unknown }
    if (typeof key !== 'string' || typeof at !== 'number') { rejected('payload', 'malformed withdrawal', signer); return }
    await peerIndex.remove(key, signer, at)
    log.info({ peer: signer, key }, 'a peer withdrew a record')
  }

  async function acceptHead (envelope: Uint8Array): Promise<void> {
    const opened = await openTrusted(INDEX_HEAD, envelope, 'head: ')
    if (opened === undefined) return
    const { signer } = opened
    const payload = opened.payload as { root?: unknown, seq?: unknown }
    const root = CID.asCID(payload?.root)
    if (root == null || typeof payload.seq !== 'number') { rejected('payload', 'malformed head', signer); return }
    if ((headSeqs.get(signer) ?? -1) >= payload.seq) return
    headSeqs.set(signer, payload.seq)
    const signal = AbortSignal.any([stopped.signal, AbortSignal.timeout(SNAPSHOT_FETCH_MS)])
    let count = 0
    for await (const record of readSnapshot(root, { get: (cid) => blocks.get(cid, { signal }) })) {
      await accept(record, signer)
      count++
    }
    log.info({ peer: signer, records: count }, 'pulled a peer\'s index')
  }

  const onMessage = (event: CustomEvent<{ topic: string, data: Uint8Array }>): void => {
    if (event.detail.topic !== INDEX_TOPIC) return
    let message: Message
    try {
      message = dagCbor.decode(event.detail.data)
    } catch {
      rejected('payload', 'undecodable gossip message')
      return
    }
    const work = message?.t === 'head' ? acceptHead(message.e) : message?.t === 'record' ? accept(message.e) : message?.t === 'gone' ? acceptWithdrawal(message.e) : undefined
    if (work === undefined) { rejected('payload', 'unknown gossip message'); return }
    work.catch((err: Error) => log.warn({ err: err.message }, 'index message failed'))
  }
  pubsub.addEventListener('message', onMessage as never)
  pubsub.subscribe(INDEX_TOPIC)
  const stopExchange = startHeadExchange(libp2p, {
    currentHead: () => head,
    onHead: (envelope) => acceptHead(envelope),
    log
  })
  scheduleHead()

  return {
    async publish (record) {
      await send({ t: 'record', e: await sign(record) })
      scheduleHead()
    },
    async withdraw (key) {
      signatures.delete(key)
      manifests.delete(key)
      await send({ t: 'gone', e: await seal(INDEX_WITHDRAWAL, { key, at: Date.now() }, privateKey) })
      scheduleHead()
    },
    liveBlocks: () => [...manifests.values(), ...snapshotBlocks],
    lookup: (key) => peerIndex.lookup(key),
    isBad: (peer) => peerIndex.isBad(peer),
    reject (record, reason) {
      peerIndex.markBad(record.peer)
      rejected('content', `${record.key} from ${record.peer}: ${reason}`, record.peer)
    },
    async stop () {
      stopped.abort()
      clearTimeout(timer)
      pubsub.removeEventListener('message', onMessage as never)
      await (await stopExchange)()
    }
  }
}
