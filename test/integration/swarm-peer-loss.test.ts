import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fakeTarballDigest, startFakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { spawnNode, type SpawnedNode } from '../helpers/spawn-node.ts'
import { generateSwarmKey } from '../helpers/swarm-key.ts'
import { health, waitFor } from '../helpers/wait-for.ts'

const MiB = 1024 * 1024
const BIG = { size: 256 * MiB }

describe('a peer dies in the middle of a transfer', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('B\'s client gets the whole artifact from the upstream, or a clean error, never a wrong body', async () => {
    const key = generateSwarmKey()
    const upstream = await startFakeNpmRegistry()
    cleanup.push(() => upstream.close())
    upstream.publish('big', { version: '1.0.0', tarball: BIG })
    const start = async (env: Record<string, string>): Promise<SpawnedNode> => {
      const dir = await mkdtemp(join(tmpdir(), 'dpm-loss-'))
      cleanup.push(() => rm(dir, { recursive: true, force: true }))
      const node = await spawnNode({ dataDir: dir, env: { DPM_SWARM_KEY: key, DPM_NPM_UPSTREAM: upstream.url, ...env } })
      cleanup.push(() => node.stop())
      return node
    }

    const a = await start({})
    for await (const chunk of (await fetch(`${a.url}/npm/big/-/big-1.0.0.tgz`)).body!) void chunk
    const b = await start({ DPM_BOOTSTRAP: (await health(a.url)).multiaddrs[0]! })
    await waitFor('B to learn A\'s records', () => b.logs.some((l) => l.msg === 'pulled a peer\'s index' && Number(l.records) >= 2))

    const response = await fetch(`${b.url}/npm/big/-/big-1.0.0.tgz`)
    assert.equal(response.headers.get('x-cache'), 'PEER')
    assert.equal(response.headers.get('content-length'), String(BIG.size))
    const hash = createHash('sha512')
    let received = 0
    let outcome: 'complete' | 'aborted' = 'complete'
    try {
      for await (const chunk of response.body!) {
        hash.update(chunk)
        received += chunk.byteLength
        if (received >= 32 * MiB && a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL')
      }
    } catch {
      outcome = 'aborted'
    }
    assert.equal(await a.exited, 'SIGKILL', 'A died mid-transfer')
    if (outcome === 'complete') {
      assert.equal(received, BIG.size)
      assert.equal(hash.digest('base64'), fakeTarballDigest(BIG), 'a body that ends cleanly is the right one')
      assert.ok(b.logs.some((l) => l.msg === 'transfer broke, continuing from the next source'))
    } else {
      assert.ok(received < BIG.size, 'an aborted body is visibly short')
    }
    console.log(`outcome: ${outcome} after ${Math.round(received / MiB)} MiB`)
    if (outcome === 'complete') {
      // what B stored from the two sources (the peer's leaves, then the upstream's bytes) is the artifact
      const stored = await fetch(`${b.url}/npm/big/-/big-1.0.0.tgz`)
      assert.equal(stored.headers.get('x-cache'), 'HIT')
      const again = createHash('sha512')
      for await (const chunk of stored.body!) again.update(chunk)
      assert.equal(again.digest('base64'), fakeTarballDigest(BIG))
    }
  })
})
