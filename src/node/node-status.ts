import type { Health } from '../gateway/health.ts'
import { zeroCounts, type Activity, type Fetch, type OutcomeCounts, type Sample } from './activity.ts'

/** What the store says of itself: bytes held, its limit, pinned items. */
export interface StoreFacts {
  usedBytes: number
  limitBytes: number
  pinned: number
}

export interface PeerFacts {
  id: string
  /** The remote addresses of its open connections. */
  addresses: string[]
}

export interface FormatStatus {
  name: string
  mounts: Array<{ prefix: string, upstream: string }>
  responses: OutcomeCounts
  /** Responses that carried X-Cache. */
  total: number
  /** HIT share of `total`; null before any. */
  hitRatio: number | null
  /** PEER share of `total`: what came from the swarm. */
  peerRatio: number | null
}

/** `GET /-/api/status`: the one source of the dashboard and `dpm status`. */
export interface NodeStatus {
  node: { status: Health['status'], version: string, peerId: string, multiaddrs: string[], publicUrl: string, swarm: boolean, startedAt: number }
  peers: PeerFacts[]
  store: StoreFacts
  formats: FormatStatus[]
  history: { intervalSeconds: number, samples: Sample[] }
  recent: Fetch[]
}

export interface NodeStatusComponents {
  health(): Health
  publicUrl(): string
  peers(): PeerFacts[]
  store(): StoreFacts | Promise<StoreFacts>
  activity: Activity
}

/** Gathers the node's facts from the parts that own them. */
export function createNodeStatus (components: NodeStatusComponents, init: { startedAt?: number } = {}): () => Promise<NodeStatus> {
  const startedAt = init.startedAt ?? Date.now()
  return async () => {
    const health = components.health()
    const totals = components.activity.totals()
    const formats: FormatStatus[] = []
    for (const f of health.formats) {
      const known = formats.find((s) => s.name === f.name)
      if (known !== undefined) { known.mounts.push({ prefix: f.prefix, upstream: f.upstream }); continue }
      const responses = totals[f.name] ?? zeroCounts()
      const total = responses.HIT + responses.PEER + responses.MISS + responses.STALE
      formats.push({
        name: f.name,
        mounts: [{ prefix: f.prefix, upstream: f.upstream }],
        responses,
        total,
        hitRatio: total === 0 ? null : responses.HIT / total,
        peerRatio: total === 0 ? null : responses.PEER / total
      })
    }
    return {
      node: { status: health.status, version: health.version, peerId: health.peerId, multiaddrs: health.multiaddrs, publicUrl: components.publicUrl(), swarm: health.swarm, startedAt },
      peers: components.peers(),
      store: await components.store(),
      formats,
      history: { intervalSeconds: components.activity.intervalMs / 1000, samples: components.activity.history() },
      recent: components.activity.recent()
    }
  }
}
