import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import type { Health } from '../../src/gateway/health.ts'
import { startTestNode } from '../helpers/test-node.ts'
import { waitFor } from '../helpers/wait-for.ts'

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
        assert.deepEqual(health.formats.map((f) => f.prefix), ['/npm/', '/pypi/', '/apt/debian/', '/v2/', '/cargo/crates-io/', '/dds/'])
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

  it('finds peers through a seed name without a peer id, as a headless Service gives them, and only those with the key', async () => {
    const key = execFileSync(process.execPath, [MAIN, 'swarm-key', 'generate'], { encoding: 'utf8' })
    const otherKey = execFileSync(process.execPath, [MAIN, 'swarm-key', 'generate'], { encoding: 'utf8' })
    const listen = { p2p_listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }
    const seed = await startTestNode({ npmUpstream: 'http://127.0.0.1:9/', settings: { ...listen, swarm_key: new TextEncoder().encode(key) } })
    const nodes = [seed]
    try {
      const port = /\/tcp\/(\d+)\//.exec((await (await fetch(`${seed.url}/-/health`)).json() as Health).multiaddrs[0]!)![1]
      const bootstrap = [`/dns4/localhost/tcp/${port}`]
      const member = await startTestNode({ npmUpstream: 'http://127.0.0.1:9/', settings: { ...listen, bootstrap, swarm_key: new TextEncoder().encode(key) } })
      nodes.push(member)
      const stranger = await startTestNode({ npmUpstream: 'http://127.0.0.1:9/', settings: { ...listen, bootstrap, swarm_key: new TextEncoder().encode(otherKey) } })
      nodes.push(stranger)
      const peers = async (node: typeof seed): Promise<number> => (await (await fetch(`${node.url}/-/health`)).json() as Health).peers
      await waitFor('the member to connect to the seed', async () => await peers(member) === 1 && await peers(seed) === 1)
      // the stranger dialled the same address at start; give a failed handshake time to show
      await sleep(1000)
      assert.equal(await peers(stranger), 0)
      assert.equal(await peers(seed), 1)
    } finally {
      for (const node of nodes) await node.destroy()
    }
  })
})
