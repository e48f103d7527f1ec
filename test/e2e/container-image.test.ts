import assert from 'node:assert/strict'
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildImage, containerfileBaseImage, ensureBaseImage, imageConfig, imageSize, runImage, type RunningImage } from '../helpers/container-image.ts'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { freePort } from '../helpers/free-port.ts'
import { createNpmProject, type NpmProject } from '../helpers/npm-client.ts'
import { publishPackageSet } from '../helpers/npm-package-set.ts'
import { generateSwarmKey } from '../helpers/swarm-key.ts'
import { health, waitFor } from '../helpers/wait-for.ts'

const TAG = 'localhost/dpm:test'
const NODE_UID = 1000

/**
 * The real Containerfile, built with buildah on a locally assembled stand-in for
 * its base image (no image registry is reachable here), run as a container
 * would run it, and used by the real npm client.
 */
describe('the container image', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  let upstream: FakeNpmRegistry
  let names: string[]
  let volume: string
  let project: NpmProject
  after(async () => { for (const step of cleanup.reverse()) await step() })

  before(async () => {
    await ensureBaseImage(await containerfileBaseImage())
    await buildImage(TAG)
    cleanup.push(() => import('../helpers/run-command.ts').then(({ runCommand }) => runCommand('buildah', ['rmi', TAG])))
    upstream = await startFakeNpmRegistry()
    cleanup.push(() => upstream.close())
    names = await publishPackageSet(upstream, 'boxed', 6)
    volume = await mkdtemp(join(tmpdir(), 'dpm-volume-'))
    await chown(volume, NODE_UID, NODE_UID)
    cleanup.push(() => rm(volume, { recursive: true, force: true }))
    project = await createNpmProject({ [names[0]!]: '^1.0.0' })
    cleanup.push(() => project.remove())
  })

  it('is configured as a container runtime expects: non-root, /data volume, ports, health check, node itself as the entrypoint', async () => {
    const config = await imageConfig(TAG)
    assert.equal(config.User, 'node')
    assert.deepEqual(Object.keys(config.Volumes ?? {}), ['/data'])
    assert.deepEqual(Object.keys(config.ExposedPorts ?? {}).sort(), ['4001/tcp', '8484/tcp'])
    for (const setting of ['DPM_DATA_DIR=/data', 'DPM_HTTP_HOST=0.0.0.0']) assert.ok(config.Env?.includes(setting), setting)
    assert.equal(config.Healthcheck?.Test?.[0], 'CMD')
    assert.match(config.Healthcheck?.Test?.join(' ') ?? '', /\/-\/health/)
    // exec form: node itself is PID 1 and gets SIGTERM, no shell in between
    assert.equal(config.Entrypoint?.[0], 'node')
    const size = await imageSize(TAG)
    console.log(`# image size: ${(size / 1e6).toFixed(0)} MB`)
  })

  it('serves npm install, reports health, stops cleanly on SIGTERM, and keeps its cache across a restart', async () => {
    const config = await imageConfig(TAG)
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const keyDir = await mkdtemp(join(tmpdir(), 'dpm-secret-'))
    cleanup.push(() => rm(keyDir, { recursive: true, force: true }))
    await chmod(keyDir, 0o755) // mkdtemp's 0700 would shut the image's user out
    await writeFile(join(keyDir, 'swarm.key'), generateSwarmKey(), { mode: 0o444 })
    const env = {
      DPM_HTTP_PORT: String(port),
      DPM_NPM_UPSTREAM: upstream.url,
      DPM_P2P_LISTEN: '/ip4/127.0.0.1/tcp/0',
      DPM_SWARM_KEY_FILE: '/run/secrets/swarm.key'
    }
    const start = async (): Promise<RunningImage> => {
      const running = await runImage(TAG, { volume, env, mounts: [[keyDir, '/run/secrets']] })
      cleanup.push(() => running.remove())
      await waitFor('the node in the container to answer', async () => {
        if (running.process.exitCode !== null) throw new Error(`the container exited: ${running.output().slice(-2000)}`)
        return await fetch(`${url}/-/health`).then((r) => r.ok, () => false)
      }, 120_000)
      return running
    }
    const stop = async (running: RunningImage): Promise<void> => {
      const node = await running.entrypoint()
      assert.ok(node !== undefined, 'the entrypoint is running')
      assert.match(await readFile(`/proc/${node.pid}/cmdline`, 'utf8'), /node\0--max-semi-space-size=4\0\/app\/bin\/dpm\.js\0start\0$/, 'the entrypoint runs node itself')
      assert.match(await readFile(`/proc/${node.pid}/environ`, 'utf8'), /(^|\0)GLIBC_TUNABLES=glibc\.malloc\.hugetlb=1\0/, 'with the malloc tunables, so bin/dpm.js need not run again')
      process.kill(node.pid, 'SIGTERM')
      assert.equal(await running.exited, 0, `a clean exit on SIGTERM: ${running.output().slice(-2000)}`)
      assert.match(running.output(), /"signal":"SIGTERM"/)
    }

    const first = await start()
    const check = config.Healthcheck!.Test!
    assert.equal((await first.exec(check.slice(1))).ok, true, 'the image\'s HEALTHCHECK passes against the running node')
    const state = await health(url)
    assert.equal(state.swarm, true, 'the swarm key came from the mounted secret file')
    assert.equal((await first.entrypoint())?.uid, NODE_UID, 'runs as the image\'s node user')
    assert.match(first.output(), /cache hits are handed to the kernel \(sendfile\)/, 'the image carries the sendfile addon built for it')
    assert.match(first.output(), /npm packuments are abbreviated natively/, 'the image carries the packument addon built for it')
    await project.install(`${url}/npm/`)
    const installed = await project.tree()
    for (const name of names) assert.ok(`node_modules/${name}@1.0.0` in installed, name)
    await stop(first)
    assert.equal((await first.exec(check.slice(1))).ok, false, 'and fails with the node stopped')

    // the cache is on the volume: a new container answers with the upstream gone
    upstream.mode = 'down'
    const second = await start()
    assert.equal((await health(url)).peerId, state.peerId, 'the node keeps its identity on the volume')
    await project.reset()
    await project.install(`${url}/npm/`)
    assert.deepEqual(await project.tree(), installed)
    await stop(second)
  })
})
