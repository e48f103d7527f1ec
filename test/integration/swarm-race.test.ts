import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { fakeTarballDigest, startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { spawnNode, type SpawnedNode } from '../helpers/spawn-node.ts'
import { generateSwarmKey } from '../helpers/swarm-key.ts'
import { health, waitFor } from '../helpers/wait-for.ts'

const MiB = 1024 * 1024
// different sizes: generated tarballs of one size are the same bytes, and so the same blocks
const TARBALLS = { late: { size: 8 * MiB }, stuck: { size: 9 * MiB } }

async function sha512 (response: Response): Promise<string> {
  const hash = createHash('sha512')
  for await (const chunk of response.body!) hash.update(chunk)
  return hash.digest('base64')
}

/**
 * A peer with a record that is slow to start sending (its process stopped with
 * SIGSTOP, its connection still up) races the upstream after a few seconds:
 * whichever starts delivering first serves the client.
 */
describe('a slow peer races the upstream', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  let upstream: FakeNpmRegistry
  let a: SpawnedNode
  let b: SpawnedNode
  before(async () => {
    const key = generateSwarmKey()
    upstream = await startFakeNpmRegistry()
    cleanup.push(() => upstream.close())
    const start = async (env: Record<string, string>): Promise<SpawnedNode> => {
      const dir = await mkdtemp(join(tmpdir(), 'dpm-race-'))
      cleanup.push(() => rm(dir, { recursive: true, force: true }))
      const node = await spawnNode({ dataDir: dir, env: { DPM_SWARM_KEY: key, DPM_NPM_UPSTREAM: upstream.url, ...env } })
      cleanup.push(() => node.stop())
      return node
    }
    for (const [name, tarball] of Object.entries(TARBALLS)) upstream.publish(name, { version: '1.0.0', tarball })
    a = await start({})
    for (const name of ['late', 'stuck']) await sha512(await fetch(`${a.url}/npm/${name}/-/${name}-1.0.0.tgz`))
    b = await start({ DPM_BOOTSTRAP: (await health(a.url)).multiaddrs[0]! })
    await waitFor('B to learn A\'s records', () => b.logs.filter((l) => l.msg === 'pulled a peer\'s index').reduce((n, l) => n + Number(l.records), 0) >= 4)
  })
  after(async () => {
    a.child.kill('SIGCONT')
    for (const step of cleanup.reverse()) await step()
  })

  it('takes the peer when it starts before a slow upstream answers', async () => {
    const path = '/late/-/late-1.0.0.tgz'
    upstream.tarballDelayMs = 60_000
    a.child.kill('SIGSTOP')
    const resume = sleep(8_000).then(() => a.child.kill('SIGCONT'))
    const response = await fetch(`${b.url}/npm${path}`)
    await resume
    assert.equal(response.headers.get('x-cache'), 'PEER')
    assert.equal(await sha512(response), fakeTarballDigest(TARBALLS.late))
    assert.equal(upstream.count(path), 2, 'A\'s fill and B\'s raced request reached the upstream')
    assert.ok(b.logs.some((l) => l.msg === 'peer slow to start, racing the upstream'))
    const metrics = await (await fetch(`${b.url}/-/metrics`)).text()
    const fromA = new RegExp(`dpm_peer_received_bytes_total\\{peer="${(await health(a.url)).peerId}"\\} (\\d+)`).exec(metrics)
    const counted = Number(fromA?.[1])
    // the file's leaves plus its small root node, all counted to the peer that sent them
    assert.ok(counted >= TARBALLS.late.size && counted < TARBALLS.late.size + 4096, `${counted} bytes counted to A`)
  })

  it('takes the upstream when the peer stays silent', async () => {
    const path = '/stuck/-/stuck-1.0.0.tgz'
    upstream.tarballDelayMs = 0
    a.child.kill('SIGSTOP')
    try {
      const response = await fetch(`${b.url}/npm${path}`)
      assert.equal(response.headers.get('x-cache'), 'MISS')
      assert.equal(await sha512(response), fakeTarballDigest(TARBALLS.stuck))
      assert.equal(upstream.count(path), 2)
    } finally {
      a.child.kill('SIGCONT')
    }
    const metrics = await (await fetch(`${b.url}/-/metrics`)).text()
    assert.match(metrics, /dpm_peer_fetches_total\{outcome="lost-race"\} 1/)
  })
})
