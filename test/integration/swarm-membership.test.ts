import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import type { Health } from '../../src/gateway/health.ts'
import { startTestNode } from '../helpers/test-node.ts'

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

describe('a node with and without a swarm key', () => {
  it('runs alone without a key, says so, and keeps its peer id across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dpm-alone-'))
    try {
      const plugin_env = { DPM_APT_UPSTREAMS: 'debian=http://127.0.0.1:9/debian' }
      const first = await startTestNode({ npmUpstream: 'http://127.0.0.1:9/', dataDir, settings: { plugin_env } })
      let health: Health
      try {
        health = await (await fetch(`${first.url}/-/health`)).json() as Health
        assert.equal(health.status, 'ok')
        assert.equal(health.swarm, false)
        assert.deepEqual(health.multiaddrs, [])
        assert.equal(health.peers, 0)
        assert.deepEqual(health.formats.map((f) => f.prefix), ['/npm/', '/pypi/', '/apt/debian/', '/v2/', '/cargo/crates-io/'])
        assert.ok(first.logs.some((l) => String(l.msg).includes('running alone')))
      } finally {
        // a node left running would keep this test's process alive
        await first.stop()
      }
      const second = await startTestNode({ npmUpstream: 'http://127.0.0.1:9/', dataDir, settings: { plugin_env } })
      try {
        assert.equal((await (await fetch(`${second.url}/-/health`)).json() as Health).peerId, health.peerId)
      } finally {
        await second.stop()
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('joins a private swarm with a key from `dpm swarm-key generate`, listening only where told', async () => {
    const key = execFileSync(process.execPath, [MAIN, 'swarm-key', 'generate'], { encoding: 'utf8' })
    assert.match(key, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    const dpm = await startTestNode({
      npmUpstream: 'http://127.0.0.1:9/',
      settings: { swarm_key: new TextEncoder().encode(key), p2p_listen: ['/ip4/127.0.0.1/tcp/0'] }
    })
    try {
      const health = await (await fetch(`${dpm.url}/-/health`)).json() as Health
      assert.equal(health.swarm, true)
      assert.equal(health.multiaddrs.length, 1)
      assert.match(health.multiaddrs[0]!, new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${health.peerId}$`))
    } finally {
      await dpm.destroy()
    }
  })
})
