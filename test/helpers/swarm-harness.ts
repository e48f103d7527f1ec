import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeNpmRegistry, type FakeNpmRegistry } from './fake-npm-registry.ts'
import { spawnNode, type SpawnedNode } from './spawn-node.ts'
import { generateSwarmKey } from './swarm-key.ts'
import { health, waitFor } from './wait-for.ts'

/** Nodes of one swarm as their own processes, a fake upstream, and one that is switched off. */
export interface SwarmHarness {
  upstream: FakeNpmRegistry
  /** An upstream that is down: a node pointed at it can only get artifacts from peers. */
  dead: FakeNpmRegistry
  /** A node with the swarm's key, a fresh data dir, and `env` on top; the upstream is the live one unless `env` says otherwise. */
  start(env?: Record<string, string>): Promise<SpawnedNode>
  /** Stops every node and server and removes the data dirs. */
  close(): Promise<void>
}

export async function startSwarmHarness (): Promise<SwarmHarness> {
  const key = generateSwarmKey()
  const upstream = await startFakeNpmRegistry()
  const dead = await startFakeNpmRegistry()
  dead.mode = 'down'
  const cleanup: Array<() => Promise<unknown>> = [() => upstream.close(), () => dead.close()]
  return {
    upstream,
    dead,
    async start (env = {}) {
      const dir = await mkdtemp(join(tmpdir(), 'dpm-swarm-'))
      cleanup.push(() => rm(dir, { recursive: true, force: true }))
      const node = await spawnNode({ dataDir: dir, env: { DPM_SWARM_KEY: key, DPM_NPM_UPSTREAM: upstream.url, ...env } })
      cleanup.push(() => node.stop())
      return node
    },
    async close () {
      for (const step of cleanup.reverse()) await step()
    }
  }
}

/** The first address a node listens on, for another's `DPM_BOOTSTRAP`. */
export async function addressOf (node: SpawnedNode): Promise<string> {
  return (await health(node.url)).multiaddrs[0]!
}

/** Waits until `node` has pulled an index snapshot holding at least `records` records. */
export async function pulledIndex (node: SpawnedNode, records: number): Promise<void> {
  await waitFor('a peer\'s index', () => node.logs.some((l) => l.msg === 'pulled a peer\'s index' && Number(l.records) >= records))
}
