import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { spawnNode, type SpawnedNode } from '../helpers/spawn-node.ts'
import { generateSwarmKey } from '../helpers/swarm-key.ts'
import { waitFor } from '../helpers/wait-for.ts'

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' })

/**
 * Two hosts on one LAN segment: each node in its own network namespace, joined
 * by a veth pair (mDNS needs multicast on a real link; loopback has none). No
 * bootstrap addresses: multicast DNS is the only way they can meet.
 */
describe('peers on one LAN find each other by mDNS', () => {
  const tag = `dpm${process.pid % 100000}`
  const hosts = [{ ns: `${tag}a`, dev: `${tag}a`, address: '10.213.0.1' }, { ns: `${tag}b`, dev: `${tag}b`, address: '10.213.0.2' }]
  const cleanup: Array<() => Promise<unknown> | unknown> = []
  before(() => {
    for (const host of hosts) {
      ip('netns', 'add', host.ns)
      cleanup.push(() => ip('netns', 'del', host.ns))
    }
    ip('link', 'add', hosts[0]!.dev, 'netns', hosts[0]!.ns, 'type', 'veth', 'peer', 'name', hosts[1]!.dev, 'netns', hosts[1]!.ns)
    for (const host of hosts) {
      ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', host.dev)
      ip('-n', host.ns, 'link', 'set', host.dev, 'up', 'multicast', 'on')
      ip('-n', host.ns, 'link', 'set', 'lo', 'up')
      // a LAN host has a default route; without one, multicast sends fail with ENETUNREACH
      ip('-n', host.ns, 'route', 'add', 'default', 'dev', host.dev)
    }
  })
  after(async () => { for (const step of cleanup.reverse()) await step() })

  async function startIn (host: typeof hosts[number], key: string): Promise<SpawnedNode> {
    const dir = await mkdtemp(join(tmpdir(), 'dpm-mdns-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const node = await spawnNode({
      dataDir: dir,
      netns: host.ns,
      env: { DPM_SWARM_KEY: key, DPM_MDNS: 'true', DPM_P2P_LISTEN: `/ip4/${host.address}/tcp/0`, DPM_NPM_UPSTREAM: 'http://127.0.0.1:1/' }
    })
    cleanup.push(() => node.stop())
    return node
  }
  const peerIdOf = (node: SpawnedNode): string => String(node.logs.find((l) => l.msg === 'joined the private swarm')?.peerId)
  const connectedTo = (node: SpawnedNode, other: SpawnedNode): boolean => node.logs.some((l) => l.msg === 'peer connected' && l.peer === peerIdOf(other))

  it('connects two nodes with the same key and no bootstrap list', async () => {
    const key = generateSwarmKey()
    const [a, b] = [await startIn(hosts[0]!, key), await startIn(hosts[1]!, key)]
    await waitFor('A and B to find each other', () => connectedTo(a, b) && connectedTo(b, a), 30_000)
  })
})
