import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, describe, it } from 'node:test'
import { fakeTarballDigest, startFakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { spawnNode } from '../helpers/spawn-node.ts'
import { verifyStore } from '../helpers/verify-store.ts'

const MiB = 1024 * 1024
const ROUNDS = 20
const PACKAGES = Array.from({ length: 8 }, (_, i) => ({ name: `crash-${i}`, size: (i + 1) * 3 * MiB }))
/** Each round's version is a little larger, so it is other bytes (and blocks) than the last. */
const sizeIn = (p: { size: number }, round: number): number => p.size + 1024 * (round + 1)

/**
 * `kill -9` at a random moment while eight cold tarballs are being fetched at
 * once, twenty times over one data dir: after every restart every stored
 * artifact re-hashes to its digests, no record lacks its blocks, and the node
 * serves each package whole and right.
 */
describe('kill -9 at random moments during concurrent cold fetches', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it(`leaves a store that verifies after each of ${ROUNDS} crashes`, async () => {
    const upstream = await startFakeNpmRegistry()
    cleanup.push(() => upstream.close())
    const dataDir = await mkdtemp(join(tmpdir(), 'dpm-crash-loop-'))
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }))
    let stored = 0

    for (let round = 0; round < ROUNDS; round++) {
      // a new version each round, so every round has cold fetches in flight
      for (const p of PACKAGES) upstream.publish(p.name, { version: `1.0.${round}`, tarball: { size: sizeIn(p, round) } })
      const node = await spawnNode({ dataDir, env: { DPM_NPM_UPSTREAM: upstream.url } })
      const fetches = PACKAGES.map(async (p) => {
        const response = await fetch(`${node.url}/npm/${p.name}/-/${p.name}-1.0.${round}.tgz`)
        for await (const chunk of response.body!) void chunk
      }).map((f) => f.catch(() => {}))
      await sleep(50 + Math.random() * 1500)
      node.child.kill('SIGKILL')
      await node.exited
      await Promise.all(fetches)

      const report = await verifyStore(dataDir)
      assert.deepEqual(report.bad, [], `round ${round}`)
      assert.ok(report.artifacts >= stored, 'no verified artifact lost')
      stored = report.artifacts
    }

    // and the store still serves every version, each whole and right
    const node = await spawnNode({ dataDir, env: { DPM_NPM_UPSTREAM: upstream.url } })
    cleanup.push(() => node.stop())
    for (const p of PACKAGES) {
      const size = sizeIn(p, ROUNDS - 1)
      const response = await fetch(`${node.url}/npm/${p.name}/-/${p.name}-1.0.${ROUNDS - 1}.tgz`)
      const hash = createHash('sha512')
      for await (const chunk of response.body!) hash.update(chunk)
      assert.equal(hash.digest('base64'), fakeTarballDigest({ size }), p.name)
    }
    console.log(`${stored} artifacts verified after ${ROUNDS} crashes`)
  })
})
