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
 * once (once the clients hold a random share of the bytes), twenty times over
 * one data dir: after every crash every stored artifact re-hashes to its
 * digests and no record lacks its blocks, and the node then serves each
 * package whole and right, what it kept as a HIT.
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
    let storedKeys: string[] = []
    let midTransfer = 0

    for (let round = 0; round < ROUNDS; round++) {
      // a new version each round, so every round has cold fetches in flight
      for (const p of PACKAGES) upstream.publish(p.name, { version: `1.0.${round}`, tarball: { size: sizeIn(p, round) } })
      const node = await spawnNode({ dataDir, env: { DPM_NPM_UPSTREAM: upstream.url } })
      // the kill comes once the clients have a random share of this round's bytes: always mid-transfer
      const total = PACKAGES.reduce((sum, p) => sum + sizeIn(p, round), 0)
      const killAt = Math.random() * 0.95 * total
      let received = 0
      let finished = 0
      const killed = Promise.withResolvers<void>()
      const fetches = PACKAGES.map(async (p) => {
        const response = await fetch(`${node.url}/npm/${p.name}/-/${p.name}-1.0.${round}.tgz`, { signal: AbortSignal.timeout(60_000) })
        for await (const chunk of response.body!) {
          received += chunk.byteLength
          if (received >= killAt) killed.resolve()
        }
        finished++
      }).map((f) => f.catch(() => {}))
      // every fetch over without reaching the share (a failed round) still kills, and shows below
      void Promise.all(fetches).then(() => { killed.resolve() })
      await killed.promise
      const inFlight = PACKAGES.length - finished
      node.child.kill('SIGKILL')
      await node.exited
      await Promise.all(fetches)
      if (inFlight > 0) midTransfer++

      const report = await verifyStore(dataDir)
      assert.deepEqual(report.bad, [], `round ${round}`)
      assert.ok(report.artifacts >= stored, 'no verified artifact lost')
      stored = report.artifacts
      storedKeys = report.keys
    }
    assert.ok(midTransfer >= ROUNDS - 2, `${midTransfer} of ${ROUNDS} kills came while tarballs were still arriving`)
    assert.ok(stored >= PACKAGES.length, `${stored} artifacts stored over ${ROUNDS} rounds`)

    // the store still serves every version: the last round's whole and right, and
    // whatever the crashes left stored from the store itself
    const node = await spawnNode({ dataDir, env: { DPM_NPM_UPSTREAM: upstream.url } })
    cleanup.push(() => node.stop())
    const digestOf = async (name: string, round: number): Promise<{ cache: string | null, digest: string }> => {
      const response = await fetch(`${node.url}/npm/${name}/-/${name}-1.0.${round}.tgz`, { signal: AbortSignal.timeout(60_000) })
      assert.equal(response.status, 200, `${name}@1.0.${round}`)
      const hash = createHash('sha512')
      for await (const chunk of response.body!) hash.update(chunk)
      return { cache: response.headers.get('x-cache'), digest: hash.digest('base64') }
    }
    for (const p of PACKAGES) {
      const { digest } = await digestOf(p.name, ROUNDS - 1)
      assert.equal(digest, fakeTarballDigest({ size: sizeIn(p, ROUNDS - 1) }), p.name)
    }
    for (const key of storedKeys.filter((k) => !k.includes(`-1.0.${ROUNDS - 1}.tgz`)).slice(0, 16)) {
      const [, name, round] = /(crash-\d+)-1\.0\.(\d+)\.tgz$/.exec(key) ?? []
      const p = PACKAGES.find((candidate) => candidate.name === name)
      assert.ok(p !== undefined && round !== undefined, key)
      const served = await digestOf(p.name, Number(round))
      assert.deepEqual(served, { cache: 'HIT', digest: fakeTarballDigest({ size: sizeIn(p, Number(round)) }) }, key)
    }
    console.log(`${stored} artifacts verified after ${ROUNDS} crashes, ${midTransfer} of them mid-transfer`)
  })
})
