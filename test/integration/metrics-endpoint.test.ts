import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, describe, it } from 'node:test'
import { startFakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { startTestNode } from '../helpers/test-node.ts'

/** Every metric the README promises, with its Prometheus type. */
const PROMISED = {
  dpm_responses_total: 'counter',
  dpm_served_bytes_total: 'counter',
  dpm_upstream_requests_total: 'counter',
  dpm_upstream_request_duration_seconds: 'histogram',
  dpm_inflight_fills: 'gauge',
  dpm_single_flight_joins_total: 'counter',
  dpm_verification_failures_total: 'counter',
  dpm_index_records_total: 'counter',
  dpm_peer_fetches_total: 'counter',
  dpm_peer_received_bytes_total: 'counter',
  dpm_peers_connected: 'gauge',
  dpm_store_bytes: 'gauge',
  dpm_store_limit_bytes: 'gauge',
  dpm_evictions_total: 'counter'
}

/** prom-client's default process metrics, which break a naming rule promtool lints (`_total` on gauges): not ours to rename. */
const DEFAULT_METRIC = /^dpm_(nodejs|process)_/

/** `promtool check metrics` (Debian's prometheus package): parses the text exposition format and lints it. */
async function promtoolCheck (text: string): Promise<{ code: number, output: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stdin.end(text)
  const [code] = await once(child, 'exit') as [number]
  return { code, output }
}

describe('/-/metrics', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('is the Prometheus text format and holds every metric DPM promises, each with its help', { timeout: 60_000 }, async () => {
    const upstream = await startFakeNpmRegistry()
    cleanup.push(() => upstream.close())
    upstream.publish('alpha', { version: '1.0.0', tarball: new Uint8Array(2048).fill(1) })
    upstream.publish('bad', { version: '1.0.0', tarball: new Uint8Array(64).fill(2), wrongIntegrity: true })
    const node = await startTestNode({ npmUpstream: upstream.url })
    cleanup.push(() => node.destroy())
    // labelled families get samples, so the lint sees those too
    for (const path of ['/npm/alpha', '/npm/alpha/-/alpha-1.0.0.tgz', '/npm/alpha/-/alpha-1.0.0.tgz', '/npm/bad/-/bad-1.0.0.tgz']) {
      await (await fetch(`${node.url}${path}`)).arrayBuffer()
    }

    const response = await fetch(`${node.url}/-/metrics`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const text = await response.text()

    const check = await promtoolCheck(text)
    assert.doesNotMatch(check.output, /parsing error/, check.output)
    const problems = check.output.split('\n').filter((line) => line !== '' && !DEFAULT_METRIC.test(line))
    assert.deepEqual(problems, [], 'promtool finds nothing to lint in DPM\'s own metrics')

    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]))
    const helps = new Map([...text.matchAll(/^# HELP (\S+) (.+)$/gm)].map((m) => [m[1]!, m[2]!]))
    for (const [name, type] of Object.entries(PROMISED)) {
      assert.equal(types.get(name), type, `${name} is a ${type}`)
      assert.ok((helps.get(name)?.length ?? 0) > 20, `${name} says what it counts`)
    }
    assert.match(text, /^dpm_served_bytes_total\{format="npm",source="local"\} 2048$/m)
    assert.match(text, /^dpm_verification_failures_total\{format="npm",source="upstream"\} 1$/m)
  })
})
