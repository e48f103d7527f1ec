import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { request } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { loadSettings } from '../../src/config/load-settings.ts'
import { startNode, type DpmNode } from '../../src/node/create-node.ts'
import type { FormatPluginFactory } from '../index.ts'

export interface ComplianceCase {
  /** The plugin under test; leave out to test a format the node ships with. */
  plugin?: { name: string, factory: FormatPluginFactory }
  /** Settings for the node, as environment variables: the upstream(s), e.g. `DPM_CARGO_UPSTREAMS`. */
  env: Record<string, string>
  /** The gateway prefix the cases below are under: `/cargo/test`. */
  prefix: string
  /** Metadata paths (below the prefix) the fake upstream serves. */
  metadata: string[]
  /** Artifacts the fake upstream serves, with the sha256 of their bytes. */
  artifacts: Array<{ path: string, sha256: string }>
  /** An artifact whose upstream bytes do not match the digest its metadata publishes. */
  corruptArtifact?: string
  /** Bad input: each must get a 4xx in the format's error shape and reach no upstream. */
  bad: string[]
  /** How many requests reached the fake upstream(s) so far. */
  upstreamRequests(): number
  /** Hosts (`127.0.0.1:1234`) of the fake upstream(s): rendered metadata must link to the node instead. */
  upstreamHosts: string[]
}

/**
 * The adapter compliance suite: runs a real node in this process with the
 * adapter mounted, pointed at the author's fake upstream, and proves through the
 * gateway what every format keeps — path parsing, metadata and artifact
 * classification (MISS then HIT), digest extraction and verification, link
 * rewriting, error shapes, and that bad input touches no upstream.
 * Call it inside a test file run by `node --test`.
 */
export function describeAdapterCompliance (name: string, c: ComplianceCase): void {
  describe(`adapter compliance: ${name}`, () => {
    let node: DpmNode
    let dataDir: string
    let errorType: string | null = null
    const url = (path: string): string => `${node.url}${c.prefix}${path}`

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'dpm-compliance-'))
      const settings = await loadSettings({ env: { DPM_DATA_DIR: dataDir, DPM_HTTP_PORT: '0', DPM_NPM_UPSTREAM: 'http://127.0.0.1:1/', ...c.env }, homeDir: dataDir })
      node = await startNode(settings, { log: pino({ level: 'silent' }), plugins: c.plugin === undefined ? [] : [c.plugin] })
      const missing = await fetch(url('/dpm-compliance-no-such-path/x/y/z/w'))
      assert.ok(missing.status >= 400 && missing.status < 500, `an unknown path is a 4xx (got ${missing.status})`)
      errorType = missing.headers.get('content-type')
      await missing.arrayBuffer()
    })
    after(async () => {
      await node?.stop()
      await rm(dataDir, { recursive: true, force: true })
    })

    it('is mounted under its prefix and listed in /-/health', async () => {
      const health = await (await fetch(`${node.url}/-/health`)).json() as { formats: Array<{ prefix: string }> }
      assert.ok(health.formats.some((f) => f.prefix === `${c.prefix}/`), `${c.prefix}/ in ${JSON.stringify(health.formats)}`)
    })

    it('serves metadata from the upstream (MISS), then from the store (HIT), with links rewritten to the node', async () => {
      for (const path of c.metadata) {
        const first = await fetch(url(path))
        const body = await first.text()
        assert.equal(first.status, 200, `${path}: ${body.slice(0, 200)}`)
        assert.equal(first.headers.get('x-cache'), 'MISS', path)
        for (const host of c.upstreamHosts) assert.ok(!body.includes(host), `${path} still links to the upstream ${host}`)
        const second = await fetch(url(path))
        assert.equal(second.headers.get('x-cache'), 'HIT', path)
        assert.equal(await second.text(), body, `${path} renders the same twice`)
      }
    })

    it('serves artifacts verified, byte for byte, MISS then HIT, with Range', async () => {
      for (const artifact of c.artifacts) {
        const first = await fetch(url(artifact.path))
        assert.equal(first.status, 200, artifact.path)
        assert.equal(first.headers.get('x-cache'), 'MISS', artifact.path)
        const bytes = Buffer.from(await first.arrayBuffer())
        assert.equal(createHash('sha256').update(bytes).digest('hex'), artifact.sha256, `${artifact.path} bytes`)
        const second = await fetch(url(artifact.path))
        assert.equal(second.headers.get('x-cache'), 'HIT', artifact.path)
        await second.arrayBuffer()
        const range = await fetch(url(artifact.path), { headers: { range: 'bytes=0-9' } })
        assert.equal(range.status, 206, `${artifact.path} Range`)
        assert.deepEqual(Buffer.from(await range.arrayBuffer()), bytes.subarray(0, 10))
      }
    })

    it('refuses an artifact whose bytes do not match its published digest, and keeps nothing', { skip: c.corruptArtifact === undefined && 'no corrupt artifact given' }, async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await fetch(url(c.corruptArtifact!))
        assert.equal(response.status, 502, 'a digest mismatch is a 502')
        assert.equal(response.headers.get('content-type'), errorType, 'in the format\'s error shape')
        await response.arrayBuffer()
      }
    })

    it('answers bad input with a 4xx in the format\'s error shape, without asking the upstream', async () => {
      const asked = c.upstreamRequests()
      for (const path of c.bad) {
        const response = await rawGet(url(path))
        assert.ok(response.status >= 400 && response.status < 500, `${path}: ${response.status}`)
        assert.equal(response.contentType, errorType, `${path}: error shape`)
        assert.ok(!/\n\s+at /.test(response.body), `${path}: no stack trace`)
      }
      assert.equal(c.upstreamRequests(), asked, 'bad input reached the upstream')
    })

    it('refuses writes: a read-only mirror', async () => {
      const response = await fetch(url(c.metadata[0] ?? '/'), { method: 'PUT', body: 'x' })
      assert.equal(response.status, 405)
      assert.equal(response.headers.get('allow'), 'GET, HEAD', 'a 405 names the methods that would do')
      assert.equal(response.headers.get('content-type'), errorType, 'in the format\'s error shape')
      await response.arrayBuffer()
    })
  })
}

/** A GET with the path exactly as given: `fetch` would resolve `%2e%2e` before sending, as browsers do; hostile clients do not. */
async function rawGet (target: string): Promise<{ status: number, contentType: string | null, body: string }> {
  const { host, pathname } = new URL(target)
  const path = target.slice(target.indexOf(host) + host.length)
  const [hostname, port] = host.split(':')
  return await new Promise((resolve, reject) => {
    request({ hostname, port, path: path.length > 0 ? path : pathname }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => { resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? null, body }) })
    }).on('error', reject).end()
  })
}
