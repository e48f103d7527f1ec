import assert from 'node:assert/strict'
import { readdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, describe, it } from 'node:test'
import { createNpmProject } from '../helpers/npm-client.ts'
import { spawnNode } from '../helpers/spawn-node.ts'
import { verifyStore } from '../helpers/verify-store.ts'

const DEPENDENCIES = { express: '4.21.2', typescript: '5.7.2', '@types/node': '22.10.2' }

describe('kill -9 in the middle of an install', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('restarts on the same data dir, installs again, and holds only verified content', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dpm-crash-'))
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }))
    const project = await createNpmProject(DEPENDENCIES)
    cleanup.push(() => project.remove())

    const first = await spawnNode({ dataDir })
    cleanup.push(() => first.stop())
    const npmAborted = new AbortController()
    const install = project.install(`${first.url}/npm/`, { signal: npmAborted.signal }).then(() => 'finished', () => 'failed')
    // kill while tarballs are streaming: some served, others still being fetched and stored
    while (first.logs.filter((l) => String(l.path).endsWith('.tgz')).length < 15) {
      assert.equal(first.child.exitCode, null)
      await sleep(5)
    }
    first.child.kill('SIGKILL')
    assert.equal(await first.exited, 'SIGKILL')
    npmAborted.abort()
    assert.equal(await install, 'failed', 'the first install was cut off')

    await project.reset()
    const second = await spawnNode({ dataDir })
    cleanup.push(() => second.stop())
    await project.install(`${second.url}/npm/`)
    const tree = await project.tree()
    assert.ok(Object.keys(tree).some((p) => p.startsWith('node_modules/typescript@')))
    assert.equal(await second.stop(), 0)

    assert.deepEqual(await readdir(join(dataDir, 'spool')), [], 'no spool files survive a restart')
    const report = await verifyStore(dataDir)
    assert.deepEqual(report.bad, [])
    assert.ok(report.artifacts >= 50, `${report.artifacts} artifacts stored`)
  })
})
