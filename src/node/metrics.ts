import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** What a single flight shares: an artifact fill, a metadata revalidation, a registry token. */
export type FlightKind = 'artifact' | 'metadata' | 'token'

/** The node's Prometheus metrics, in a registry of its own (several nodes may share a process in tests). */
export interface Metrics {
  registry: Registry
  responses: Counter<'format' | 'cache' | 'status'>
  servedBytes: Counter<'format' | 'source'>
  upstreamRequests: Counter<'host' | 'outcome'>
  upstreamDuration: Histogram<'host'>
  inflightFills: Gauge
  singleFlightJoins: Counter<'kind'>
  verificationFailures: Counter<'format' | 'source'>
  indexRecords: Counter<'outcome' | 'reason'>
  peerFetches: Counter<'outcome'>
  peerBytes: Counter<'peer'>
  /** Incremented by the store each time it evicts content to stay under its limit. */
  evictions: Counter
}

/** Values read at each scrape. */
export interface MetricSources {
  inflightFills(): number
  /** Swarm peers connected now; without it (no swarm key) the gauge reads 0. */
  peersConnected?(): number
  /** Bytes the store holds now; without it the gauge has no sample (unknown, not zero). */
  storeBytes?(): number | Promise<number>
  /** The store's size limit (`DPM_MAX_STORE`). */
  storeLimitBytes?(): number
}

/** Seconds to an upstream's response headers: from a loopback mirror's milliseconds to a far registry's seconds. */
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export function createMetrics (sources: MetricSources): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'dpm_' })
  const registers = [registry]
  new Gauge({
    name: 'dpm_peers_connected',
    help: 'Swarm peers this node is connected to (0 without a swarm key)',
    registers,
    collect () { this.set(sources.peersConnected?.() ?? 0) }
  })
  new Gauge({
    name: 'dpm_store_bytes',
    help: 'Bytes of content in the store',
    registers,
    async collect () {
      if (sources.storeBytes === undefined) this.remove()
      else this.set(await sources.storeBytes())
    }
  })
  new Gauge({
    name: 'dpm_store_limit_bytes',
    help: 'The store size limit (DPM_MAX_STORE), above which least recently used unpinned content is evicted',
    registers,
    collect () {
      if (sources.storeLimitBytes === undefined) this.remove()
      else this.set(sources.storeLimitBytes())
    }
  })
  return {
    registry,
    responses: new Counter({
      name: 'dpm_responses_total',
      help: 'Gateway responses by format, X-Cache value (none for responses without one) and HTTP status',
      labelNames: ['format', 'cache', 'status'],
      registers
    }),
    servedBytes: new Counter({
      name: 'dpm_served_bytes_total',
      help: 'Bytes of artifact and metadata bodies sent to clients, by format and source: local (X-Cache HIT or STALE), peer (PEER), upstream (MISS)',
      labelNames: ['format', 'source'],
      registers
    }),
    upstreamRequests: new Counter({
      name: 'dpm_upstream_requests_total',
      help: 'Requests to upstream registries by host and outcome (HTTP status, timeout, unreachable, aborted)',
      labelNames: ['host', 'outcome'],
      registers
    }),
    upstreamDuration: new Histogram({
      name: 'dpm_upstream_request_duration_seconds',
      help: 'Seconds from sending a request to an upstream to its response headers, by host (requests that got a response)',
      labelNames: ['host'],
      buckets: UPSTREAM_BUCKETS,
      registers
    }),
    inflightFills: new Gauge({
      name: 'dpm_inflight_fills',
      help: 'Artifacts being fetched from upstreams right now',
      registers,
      collect () { this.set(sources.inflightFills()) }
    }),
    singleFlightJoins: new Counter({
      name: 'dpm_single_flight_joins_total',
      help: 'Requests that joined a fetch already under way instead of starting their own, by kind (artifact, metadata, token)',
      labelNames: ['kind'],
      registers
    }),
    verificationFailures: new Counter({
      name: 'dpm_verification_failures_total',
      help: 'Artifact fills whose bytes did not match the digests or size the upstream published, by format and source (upstream, peer)',
      labelNames: ['format', 'source'],
      registers
    }),
    indexRecords: new Counter({
      name: 'dpm_index_records_total',
      help: 'Signed index records from peers: accepted, or rejected with the reason (signature, untrusted, payload, content)',
      labelNames: ['outcome', 'reason'],
      registers
    }),
    peerFetches: new Counter({
      name: 'dpm_peer_fetches_total',
      help: 'Content fetched from swarm peers over Bitswap, by outcome',
      labelNames: ['outcome'],
      registers
    }),
    peerBytes: new Counter({
      name: 'dpm_peer_received_bytes_total',
      help: 'Bytes of artifact blocks (leaves and DAG nodes) received over Bitswap, by the peer whose copy arrived first; duplicates are not counted',
      labelNames: ['peer'],
      registers
    }),
    evictions: new Counter({
      name: 'dpm_evictions_total',
      help: 'Items (artifacts and documents) evicted from the store to keep it under its size limit',
      registers
    })
  }
}
