import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'

/** The node's Prometheus metrics, in a registry of its own (several nodes may share a process in tests). */
export interface Metrics {
  registry: Registry
  responses: Counter<'format' | 'cache' | 'status'>
  upstreamRequests: Counter<'host' | 'outcome'>
  inflightFills: Gauge
  indexRecords: Counter<'outcome' | 'reason'>
  peerFetches: Counter<'outcome'>
  peerBytes: Counter<'peer'>
}

export function createMetrics (sources: { inflightFills(): number }): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'dpm_' })
  return {
    registry,
    responses: new Counter({
      name: 'dpm_responses_total',
      help: 'Gateway responses by format, X-Cache value and HTTP status',
      labelNames: ['format', 'cache', 'status'],
      registers: [registry]
    }),
    upstreamRequests: new Counter({
      name: 'dpm_upstream_requests_total',
      help: 'Requests to upstream registries by host and outcome (HTTP status, timeout, unreachable, aborted)',
      labelNames: ['host', 'outcome'],
      registers: [registry]
    }),
    inflightFills: new Gauge({
      name: 'dpm_inflight_fills',
      help: 'Artifacts being fetched from upstreams right now',
      registers: [registry],
      collect () { this.set(sources.inflightFills()) }
    }),
    indexRecords: new Counter({
      name: 'dpm_index_records_total',
      help: 'Signed index records from peers: accepted, or rejected with the reason (signature, untrusted, payload, content)',
      labelNames: ['outcome', 'reason'],
      registers: [registry]
    }),
    peerFetches: new Counter({
      name: 'dpm_peer_fetches_total',
      help: 'Content fetched from swarm peers over Bitswap, by outcome',
      labelNames: ['outcome'],
      registers: [registry]
    }),
    peerBytes: new Counter({
      name: 'dpm_peer_received_bytes_total',
      help: 'Bytes of artifact blocks (leaves and DAG nodes) received over Bitswap, by the peer whose copy arrived first; duplicates are not counted',
      labelNames: ['peer'],
      registers: [registry]
    })
  }
}
