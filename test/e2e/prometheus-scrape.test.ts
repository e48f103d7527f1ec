import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { after, describe, it } from 'node:test'
import { startFakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { startPrometheus } from '../helpers/prometheus.ts'
import { spawnNode } from '../helpers/spawn-node.ts'
import { waitFor } from '../helpers/wait-for.ts'

const MAX_STORE = 5_000_000_000
const CONCURRENT = 4

describe('a real Prometheus scrapes a node', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('and its queries return the counters of the traffic the node served', { timeout: 180_000 }, async () => {
    const upstream = await startFakeNpmRegistry()
    cleanup.push(() => upstream.close())
    upstream.publish('alpha', { version: '1.0.0', tarball: new Uint8Array(300_000).fill(1) })
    upstream.publish('bravo', { version: '1.0.0', tarball: new Uint8Array(50_000).fill(2) })
    upstream.publish('charlie', { version: '1.0.0', tarball: new Uint8Array(1000).fill(3), wrongIntegrity: true })
    upstream.publish('echo', { version: '1.0.0', tarball: new Uint8Array(10) })
    upstream.publish('foxtrot', { version: '1.0.0', tarball: new Uint8Array(10) })

    const dataDir = await mkdtemp(join(tmpdir(), 'dpm-prometheus-node-'))
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }))
    const node = await spawnNode({ dataDir, env: { DPM_NPM_UPSTREAM: `${upstream.url}/`, DPM_MAX_STORE: String(MAX_STORE) } })
    cleanup.push(() => node.stop())

    const prometheus = await startPrometheus({ target: new URL(node.url).host, metricsPath: '/-/metrics', job: 'dpm' })
    cleanup.push(() => prometheus.stop())
    await waitFor('Prometheus to scrape the node', async () => (await prometheus.query('up{job="dpm"}'))[0]?.value === 1, 30_000)
      .catch((err: Error) => { throw new Error(`${err.message}; Prometheus logged: ${prometheus.log()}`) })

    // the traffic, with the bytes each source's responses carried as the client received them
    const received = { HIT: 0, MISS: 0 }
    const get = async (path: string): Promise<{ status: number, cache: string | null }> => {
      const response = await fetch(`${node.url}/npm/${path}`)
      const bytes = (await response.arrayBuffer()).byteLength
      const cache = response.headers.get('x-cache')
      if (cache === 'HIT' || cache === 'MISS') received[cache] += bytes
      return { status: response.status, cache }
    }
    assert.deepEqual(await get('alpha'), { status: 200, cache: 'MISS' })
    assert.deepEqual(await get('alpha'), { status: 200, cache: 'HIT' })
    assert.deepEqual(await get('alpha/-/alpha-1.0.0.tgz'), { status: 200, cache: 'MISS' })
    for (let i = 0; i < 3; i++) assert.deepEqual(await get('alpha/-/alpha-1.0.0.tgz'), { status: 200, cache: 'HIT' })
    // cold requests at once for a slow tarball: one fill, the others join it
    upstream.tarballDelayMs = 1000
    const joined = await Promise.all(Array.from({ length: CONCURRENT }, () => get('bravo/-/bravo-1.0.0.tgz')))
    upstream.tarballDelayMs = 0
    assert.deepEqual(joined, Array(CONCURRENT).fill({ status: 200, cache: 'MISS' }))
    assert.equal(upstream.count('/bravo/-/bravo-1.0.0.tgz'), 1)
    assert.equal((await get('charlie/-/charlie-1.0.0.tgz')).status, 502, 'bytes that do not match their integrity are refused')
    assert.equal((await get('nope')).status, 404)
    upstream.mode = 'error'
    assert.equal((await get('echo')).status, 502)
    upstream.mode = 'down'
    assert.equal((await get('foxtrot')).status, 502)
    upstream.mode = 'up'

    const host = new URL(upstream.url).host
    const queries = {
      hits: 'sum(dpm_responses_total{job="dpm",format="npm",cache="HIT"})',
      misses: 'sum(dpm_responses_total{job="dpm",format="npm",cache="MISS"})',
      notFound: 'dpm_responses_total{job="dpm",format="npm",cache="none",status="404"}',
      badGateway: 'dpm_responses_total{job="dpm",format="npm",cache="none",status="502"}',
      localBytes: 'dpm_served_bytes_total{job="dpm",format="npm",source="local"}',
      upstreamBytes: 'dpm_served_bytes_total{job="dpm",format="npm",source="upstream"}',
      peerBytes: 'sum(dpm_served_bytes_total{job="dpm",source="peer"}) or vector(0)',
      artifactJoins: 'dpm_single_flight_joins_total{job="dpm",kind="artifact"}',
      verificationFailures: 'dpm_verification_failures_total{job="dpm",format="npm",source="upstream"}',
      upstreamRequests: `sum(dpm_upstream_requests_total{job="dpm",host="${host}"})`,
      upstreamOk: `dpm_upstream_requests_total{job="dpm",host="${host}",outcome="200"}`,
      upstreamNotFound: `dpm_upstream_requests_total{job="dpm",host="${host}",outcome="404"}`,
      upstream5xx: `dpm_upstream_requests_total{job="dpm",host="${host}",outcome="503"}`,
      upstreamUnreachable: `dpm_upstream_requests_total{job="dpm",host="${host}",outcome="unreachable"}`,
      upstreamTimed: `dpm_upstream_request_duration_seconds_count{job="dpm",host="${host}"}`,
      upstreamSlowerThanDelay: `dpm_upstream_request_duration_seconds_count{job="dpm",host="${host}"} - ignoring(le) dpm_upstream_request_duration_seconds_bucket{job="dpm",host="${host}",le="0.5"}`,
      storeLimit: 'dpm_store_limit_bytes{job="dpm"}',
      peers: 'dpm_peers_connected{job="dpm"}',
      evictions: 'dpm_evictions_total{job="dpm"}'
    }
    const expected = {
      hits: 4,
      misses: 2 + CONCURRENT,
      notFound: 1,
      badGateway: 3,
      localBytes: received.HIT,
      upstreamBytes: received.MISS,
      peerBytes: 0,
      artifactJoins: CONCURRENT - 1,
      verificationFailures: 1,
      // what the node counted is what the upstream saw
      upstreamRequests: upstream.requests.length,
      // alpha, bravo and charlie: a packument and a tarball each
      upstreamOk: 6,
      upstreamNotFound: 1,
      upstream5xx: 1,
      upstreamUnreachable: 1,
      // every request that got an answer, the unreachable one not
      upstreamTimed: upstream.requests.length - 1,
      // bravo's tarball, held back a second
      upstreamSlowerThanDelay: 1,
      storeLimit: MAX_STORE,
      peers: 0,
      evictions: 0
    }
    assert.equal(upstream.requests.length, 9)

    const snapshot = async (): Promise<Record<string, number | undefined>> => Object.fromEntries(await Promise.all(
      Object.entries(queries).map(async ([name, expr]) => [name, (await prometheus.query(expr))[0]?.value] as const)))
    // the next scrapes after the traffic: bounded, and the last snapshot is what is compared
    let seen: Record<string, number | undefined> = {}
    await waitFor('Prometheus to hold the traffic\'s counters', async () => {
      seen = await snapshot()
      return isDeepStrictEqual(seen, expected)
    }, 20_000).catch(() => {})
    assert.deepEqual(seen, expected)

    await prometheus.stop()
    assert.equal(await node.stop(), 0)
  })
})
