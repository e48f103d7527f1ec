import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { spawnNode } from '../helpers/spawn-node.ts'

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const PLUGIN_DIR = fileURLToPath(new URL('../fixtures/dpm-format-sums', import.meta.url))

/** `dpm start` that must fail before listening: its exit code and its one line on stderr. */
function startFails (env: Record<string, string>): { status: number | null, stderr: string } {
  const dataDir = join(tmpdir(), `dpm-never-written-${process.pid}`)
  const run = spawnSync(process.execPath, [MAIN, 'start'], {
    env: { ...process.env, DPM_DATA_DIR: dataDir, DPM_HTTP_PORT: '0', DPM_NPM_UPSTREAM: 'http://127.0.0.1:9/', ...env },
    encoding: 'utf8',
    timeout: 30_000
  })
  assert.equal(existsSync(dataDir), false, 'nothing written to the data dir')
  return { status: run.status, stderr: run.stderr }
}

describe('format plugins named in DPM_PLUGINS', () => {
  const file = randomBytes(2000)
  const list = `${createHash('sha256').update(file).digest('hex')}  tool.bin\n`
  const upstream = createServer((req, res) => {
    const body = req.url === '/SHA256SUMS' ? list : req.url === '/tool.bin' ? file : undefined
    res.writeHead(body === undefined ? 404 : 200).end(body)
  })
  let upstreamUrl = ''
  let dir = ''
  before(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`
    dir = await mkdtemp(join(tmpdir(), 'dpm-plugins-'))
  })
  after(async () => {
    upstream.close()
    await rm(dir, { recursive: true, force: true })
  })

  for (const [how, specifier] of [['by package name', 'dpm-format-sums'], ['by path to its directory', PLUGIN_DIR]] as const) {
    it(`loads a plugin ${how}, with its own settings section, and serves its format`, async () => {
      const node = await spawnNode({ dataDir: join(dir, how.replaceAll(' ', '-')), env: { DPM_PLUGINS: specifier, DPM_SUMS_UPSTREAM: upstreamUrl, DPM_APT_UPSTREAMS: 'debian=http://127.0.0.1:9/debian' } })
      try {
        const health = await (await fetch(`${node.url}/-/health`)).json() as { formats: Array<{ prefix: string }> }
        assert.deepEqual(health.formats.map((f) => f.prefix), ['/npm/', '/pypi/', '/apt/debian/', '/v2/', '/cargo/crates-io/', '/dds/', '/sums/'])
        const response = await fetch(`${node.url}/sums/tool.bin`)
        assert.equal(response.headers.get('x-cache'), 'MISS')
        assert.deepEqual(Buffer.from(await response.arrayBuffer()), file)
      } finally {
        await node.stop()
      }
    })
  }

  it('takes the section from the config file too, the environment winning', async () => {
    const config = join(dir, 'dpm.yaml')
    await writeFile(config, `plugins: ${PLUGIN_DIR}\nsums:\n  upstream: http://127.0.0.1:9/\n  prefix: /files\n`)
    const node = await spawnNode({ dataDir: join(dir, 'yaml'), env: { DPM_CONFIG: config, DPM_SUMS_UPSTREAM: upstreamUrl } })
    try {
      const response = await fetch(`${node.url}/files/SHA256SUMS`)
      assert.equal(response.status, 200)
      assert.equal(await response.text(), list)
    } finally {
      await node.stop()
    }
  })

  it('stops with one line naming the plugin when it cannot be loaded', () => {
    const run = startFails({ DPM_PLUGINS: 'dpm-format-nowhere' })
    assert.equal(run.status, 2)
    assert.match(run.stderr, /^dpm: plugin "dpm-format-nowhere": cannot load: [^\n]+\n$/)
  })

  it('stops when a plugin claims a prefix already taken', () => {
    const run = startFails({ DPM_PLUGINS: PLUGIN_DIR, DPM_SUMS_UPSTREAM: upstreamUrl, DPM_SUMS_PREFIX: '/npm' })
    assert.equal(run.status, 2)
    assert.equal(run.stderr, `dpm: plugin "${PLUGIN_DIR}": prefix /npm is already taken (/npm, by npm)\n`)
    const below = startFails({ DPM_PLUGINS: PLUGIN_DIR, DPM_SUMS_UPSTREAM: upstreamUrl, DPM_SUMS_PREFIX: '/v2/x' })
    assert.equal(below.status, 2)
    assert.match(below.stderr, /prefix \/v2\/x is already taken \(\/v2, by oci\)/)
    // a prefix the node keeps for its own endpoints
    const reserved = startFails({ DPM_PLUGINS: PLUGIN_DIR, DPM_SUMS_UPSTREAM: upstreamUrl, DPM_SUMS_PREFIX: '/-/x' })
    assert.equal(reserved.status, 2)
    assert.match(reserved.stderr, /prefix \/-\/x is already taken \(\/-, by the node\)/)
  })

  it('stops with the plugin\'s own setting named when its section is invalid', () => {
    const missing = startFails({ DPM_PLUGINS: PLUGIN_DIR })
    assert.equal(missing.status, 2)
    assert.match(missing.stderr, /^dpm: DPM_SUMS_UPSTREAM: /)
    const bad = startFails({ DPM_PLUGINS: PLUGIN_DIR, DPM_SUMS_UPSTREAM: 'not a url' })
    assert.match(bad.stderr, /^dpm: DPM_SUMS_UPSTREAM: expected an http\(s\) URL \(got "not a url"\)\n$/)
  })

  it('stops on a config file section no plugin reads', async () => {
    const config = join(dir, 'unknown.yaml')
    await writeFile(config, 'pypy:\n  upstream: http://127.0.0.1:9/\n')
    const run = startFails({ DPM_CONFIG: config })
    assert.equal(run.status, 2)
    assert.equal(run.stderr, 'dpm: DPM_CONFIG: unknown section "pypy": no loaded plugin reads it\n')
  })

  it('stops on a bad Cargo upstream list, naming DPM_CARGO_UPSTREAMS', () => {
    const run = startFails({ DPM_CARGO_UPSTREAMS: 'crates-io=https://index.crates.io/' })
    assert.equal(run.status, 2)
    assert.match(run.stderr, /^dpm: DPM_CARGO_UPSTREAMS: expected comma-separated name=sparse\+http\(s\):\/\/… pairs/)
  })
})
