import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, describe, it } from 'node:test'
import { fakeTarballDigest } from '../helpers/fake-npm-registry.ts'
import type { SpawnedNode } from '../helpers/spawn-node.ts'
import { addressOf, pulledIndex, startSwarmHarness, type SwarmHarness } from '../helpers/swarm-harness.ts'
import { verifyStore } from '../helpers/verify-store.ts'
import { within } from '../helpers/wait-for.ts'

const MiB = 1024 * 1024
const BIG = { size: 256 * MiB }
const PATH = '/npm/big/-/big-1.0.0.tgz'
/** A's death is a few seconds; B gives up on a silent peer after 30 s (PEER_IDLE_MS) and the upstream sends the rest. */
const TRANSFER_MS = 150_000

/** Artifact bytes B has received over Bitswap so far, from any peer. */
async function peerBytes (node: SpawnedNode): Promise<number> {
  const text = await (await fetch(`${node.url}/-/metrics`, { signal: AbortSignal.timeout(10_000) })).text()
  let sum = 0
  for (const [, bytes] of text.matchAll(/^dpm_peer_received_bytes_total\{[^}]*\} (\d+)$/gm)) sum += Number(bytes)
  return sum
}

describe('a peer dies in the middle of a transfer', () => {
  let swarm: SwarmHarness
  let bDir: string | undefined
  after(async () => {
    await swarm?.close()
    if (bDir !== undefined) await rm(bDir, { recursive: true, force: true })
  })

  it('B continues from the upstream: its client gets the whole verified artifact, and B stores it', { timeout: 240_000 }, async () => {
    swarm = await startSwarmHarness()
    swarm.upstream.publish('big', { version: '1.0.0', tarball: BIG })
    const a = await swarm.start()
    const seeded = await fetch(`${a.url}${PATH}`, { signal: AbortSignal.timeout(TRANSFER_MS) })
    for await (const chunk of seeded.body!) void chunk
    bDir = await mkdtemp(join(tmpdir(), 'dpm-swarm-'))
    const b = await swarm.start({ DPM_BOOTSTRAP: await addressOf(a), DPM_DATA_DIR: bDir })
    await pulledIndex(b, 2)
    assert.equal(swarm.upstream.count('/big/-/big-1.0.0.tgz'), 1, 'only A has asked the upstream so far')

    // A is killed once B's fill has taken 32 MiB from it, whatever B's client reads meanwhile; at the latest after 60 s
    const before = await peerBytes(b)
    const stopWatching = new AbortController()
    const killed = (async () => {
      const deadline = Date.now() + 60_000
      while (!stopWatching.signal.aborted && Date.now() < deadline && await peerBytes(b) - before < 32 * MiB) await sleep(50)
      a.child.kill('SIGKILL')
    })()

    let received = 0
    const hash = createHash('sha512')
    try {
      const response = await fetch(`${b.url}${PATH}`, { signal: AbortSignal.timeout(TRANSFER_MS) })
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('x-cache'), 'PEER')
      assert.equal(response.headers.get('content-length'), String(BIG.size))
      for await (const chunk of response.body!) {
        hash.update(chunk)
        received += chunk.byteLength
      }
    } finally {
      stopWatching.abort()
      await killed
    }
    assert.equal(await within(10_000, 'A to exit', a.exited), 'SIGKILL')
    assert.equal(received, BIG.size, 'the client got every byte')
    assert.equal(hash.digest('base64'), fakeTarballDigest(BIG), 'and they are the artifact')
    // A died while B was still fetching from it, and B went on from the upstream at the byte where A stopped
    const broke = b.logs.find((l) => l.msg === 'transfer broke, continuing from the next source')
    assert.ok(broke, 'B\'s peer transfer broke mid-way')
    assert.ok(Number(broke.received) >= 32 * MiB && Number(broke.received) < BIG.size, `it broke after ${String(broke.received)} bytes`)
    assert.ok(swarm.upstream.count('/big/-/big-1.0.0.tgz') >= 2, 'B asked the upstream for the rest')

    // what B stored from the two sources (the peer's leaves, then the upstream's bytes) is the artifact
    const stored = await fetch(`${b.url}${PATH}`, { signal: AbortSignal.timeout(TRANSFER_MS) })
    assert.equal(stored.headers.get('x-cache'), 'HIT')
    const again = createHash('sha512')
    for await (const chunk of stored.body!) again.update(chunk)
    assert.equal(again.digest('base64'), fakeTarballDigest(BIG))
    await within(30_000, 'B to stop', b.stop())
    const report = await verifyStore(bDir)
    assert.deepEqual(report.bad, [])
    assert.ok(report.artifacts >= 1)
  })
})
