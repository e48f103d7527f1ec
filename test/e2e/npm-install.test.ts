import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createNpmProject, type NpmProject } from '../helpers/npm-client.ts'
import { spawnNode, type SpawnedNode } from '../helpers/spawn-node.ts'
import { verifyStore } from '../helpers/verify-store.ts'

/** express 4 pulls in about 70 packages: a real tree with scoped-free, deduplicated dependencies. */
const DEPENDENCIES = { express: '4.21.2', '@types/node': '22.10.2' }

/** The machine's real npm registry (whatever `npm config get registry` says) behind a node. */
describe('the real npm client through a node', () => {
  let dataDir: string
  let dpm: SpawnedNode
  let project: NpmProject

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dpm-e2e-'))
    dpm = await spawnNode({ dataDir })
    project = await createNpmProject(DEPENDENCIES)
  })
  after(async () => {
    await dpm.stop()
    await project.remove()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('installs through the node, then again with npm\'s cache emptied entirely from HIT', async () => {
    await project.install(`${dpm.url}/npm/`)
    const first = await dpm.requests()
    const tarballs = first.filter((r) => r.path.endsWith('.tgz'))
    assert.ok(tarballs.length >= 50, `only ${tarballs.length} tarballs`)
    assert.ok(tarballs.every((r) => r.status === 200 && r.cache === 'MISS'))
    assert.ok(first.some((r) => r.path === '/npm/@types%2fnode' || r.path === '/npm/@types/node'), 'a scoped package went through')
    const firstTree = await project.tree()

    await project.reset()
    const seen = first.length
    await project.install(`${dpm.url}/npm/`)
    const second = (await dpm.requests()).slice(seen)
    assert.equal(second.filter((r) => r.path.endsWith('.tgz')).length, tarballs.length)
    assert.deepEqual(second.filter((r) => r.cache !== 'HIT'), [], 'every response of the second install is a HIT')
    assert.deepEqual(await project.tree(), firstTree)
  })

  it('keeps every stored artifact intact', async () => {
    await dpm.stop()
    const report = await verifyStore(dataDir)
    assert.deepEqual(report.bad, [])
    assert.ok(report.artifacts >= 50)
  })
})
