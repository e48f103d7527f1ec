import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { isMounted, unmountDir } from '../../src/mount/fuse-mount.ts'
import { createAptClient, hostDebianMirror } from '../helpers/apt-client.ts'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { spawnNode, type SpawnedNode } from '../helpers/spawn-node.ts'
import { waitFor } from '../helpers/wait-for.ts'

const run = promisify(execFile)
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
const noFuse = !existsSync('/dev/fuse') && 'this host has no /dev/fuse (a container needs --device /dev/fuse --cap-add SYS_ADMIN)'
if (noFuse !== false) process.stdout.write(`# fuse-mount: skipped: ${noFuse}\n`)
const mirror = noFuse === false ? await hostDebianMirror() : undefined

/** A node with `DPM_MOUNT`, and real tools (`cat`, `ls`, `dd`, `apt-get`) reading the mount. */
describe('the read-only FUSE view of the cache', { skip: noFuse, timeout: 600_000 }, () => {
  const tarball = randomBytes(3 * 1024 * 1024 + 12345)
  const file = (dir: string): string => join(dir, 'npm', 'mounted-pkg', '-', 'mounted-pkg-1.0.0.tgz')
  let registry: FakeNpmRegistry
  let dataDir = ''
  let mountDir = ''
  let node: SpawnedNode

  const startNode = async (): Promise<SpawnedNode> => {
    const started = await spawnNode({
      dataDir,
      env: { DPM_NPM_UPSTREAM: registry.url, DPM_MOUNT: mountDir, ...mirror !== undefined && { DPM_APT_UPSTREAMS: `debian=${mirror.uri}` } }
    })
    await waitFor('the node to mount its cache', () => started.logs.some((l) => l.msg === 'cache mounted (read-only)') || started.logs.find((l) => l.msg === 'FUSE is unavailable: running without the mount'), 30_000)
    assert.ok(started.logs.some((l) => l.msg === 'cache mounted (read-only)'), JSON.stringify(started.logs.find((l) => l.level === 40)))
    return started
  }

  before(async () => {
    registry = await startFakeNpmRegistry()
    registry.publish('mounted-pkg', { version: '1.0.0', tarball })
    dataDir = await mkdtemp(join(tmpdir(), 'dpm-fuse-data-'))
    mountDir = join(await mkdtemp(join(tmpdir(), 'dpm-fuse-')), 'mnt')
    node = await startNode()
  })
  after(async () => {
    await node?.stop()
    // the node unmounts on stop; whatever a failure left mounted goes here, even lazily
    if (mountDir !== '' && await isMounted(mountDir).catch(() => false)) await unmountDir(mountDir, { lazy: true })
    await registry?.close()
    await rm(dataDir, { recursive: true, force: true })
    if (mountDir !== '') await rm(join(mountDir, '..'), { recursive: true, force: true })
  })

  it('cats an npm tarball that is not cached: fetched once from the upstream, verified, byte for byte', async () => {
    const { stdout } = await run('cat', [file(mountDir)], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 })
    assert.equal(stdout.length, tarball.length)
    assert.ok(stdout.equals(tarball), 'the bytes are the upstream\'s')
    assert.equal(registry.count('/mounted-pkg/-/mounted-pkg-1.0.0.tgz'), 1)
    // and the node cached it as the gateway would have
    const cached = await fetch(`${node.url}/npm/mounted-pkg/-/mounted-pkg-1.0.0.tgz`)
    assert.equal(cached.headers.get('x-cache'), 'HIT')
    await cached.body?.cancel()
  })

  it('lists directories: the formats, and a package\'s cached tarballs with their size from the index', async () => {
    const root = (await run('ls', ['-1', mountDir])).stdout.split('\n')
    assert.ok(root.includes('npm') && root.includes('pypi') && root.includes('oci'), root.join(' '))
    const { stdout } = await run('ls', ['-l', join(mountDir, 'npm', 'mounted-pkg', '-')])
    assert.match(stdout, new RegExp(`^-r--r--r-- .* ${tarball.length} .* mounted-pkg-1\\.0\\.0\\.tgz$`, 'm'))
    const info = await stat(file(mountDir))
    assert.equal(info.size, tarball.length)
    assert.ok(Math.abs(info.mtimeMs - Date.now()) < 10 * 60_000, 'mtime is the fetch time')
  })

  it('reads at an offset (dd), and past the end reads nothing', async () => {
    const offset = 2 * 1024 * 1024 + 777
    const { stdout } = await run('dd', [`if=${file(mountDir)}`, 'iflag=skip_bytes,count_bytes', `skip=${offset}`, 'count=100000', 'status=none'], { encoding: 'buffer', maxBuffer: 1024 * 1024 })
    assert.ok(stdout.equals(tarball.subarray(offset, offset + 100000)))
    const handle = await open(file(mountDir), 'r')
    try {
      const buffer = Buffer.alloc(4096)
      assert.equal((await handle.read(buffer, 0, 4096, tarball.length + 10)).bytesRead, 0)
      const { bytesRead } = await handle.read(buffer, 0, 4096, tarball.length - 100)
      assert.equal(bytesRead, 100)
      assert.ok(buffer.subarray(0, 100).equals(tarball.subarray(-100)))
    } finally {
      await handle.close()
    }
  })

  it('refuses writes with EROFS, and unknown or hostile names with ENOENT or ENAMETOOLONG', async () => {
    await assert.rejects(writeFile(join(mountDir, 'new-file'), 'x'), { code: 'EROFS' })
    await assert.rejects(open(file(mountDir), 'r+'), { code: 'EROFS' })
    await assert.rejects(mkdir(join(mountDir, 'new-dir')), { code: 'EROFS' })
    await assert.rejects(writeFile(join(mountDir, 'npm', 'mounted-pkg', '-', 'mounted-pkg-2.0.0.tgz'), 'x'), { code: 'EROFS' })
    await assert.rejects(rm(file(mountDir)), { code: 'EROFS' })
    const shell = await run('sh', ['-c', `echo x >> '${file(mountDir)}'`]).catch((err: { stderr: string }) => err)
    assert.match((shell as { stderr: string }).stderr, /Read-only file system/)
    await assert.rejects(stat(join(mountDir, 'nonsense')), { code: 'ENOENT' })
    await assert.rejects(stat(join(mountDir, 'npm', 'no-such-pkg', '-', 'no-such-pkg-9.9.9.tgz')), { code: 'ENOENT' })
    await assert.rejects(stat(join(mountDir, 'npm', 'x'.repeat(300))), { code: 'ENAMETOOLONG' })
    // `..` is the kernel's to resolve: it never climbs out of the mount
    assert.deepEqual((await stat(join(mountDir, 'npm', '..', '..', 'mnt'))).ino, (await stat(mountDir)).ino)
  })

  it('serves apt-get download from a file: source pointing into the mount (this host\'s Debian mirror)', { skip: mirror === undefined && 'this host\'s apt sources name no Debian mirror' }, async () => {
    const apt = await createAptClient([{ uri: `file:${join(mountDir, 'apt', 'debian')}`, suites: mirror!.suite, components: 'main', signedBy: KEYRING }])
    try {
      const updated = await apt.update()
      assert.ok(updated.ok, updated.stderr)
      const downloaded = await apt.download(['hello'])
      assert.ok(downloaded.ok, downloaded.stderr)
      assert.equal(downloaded.files.length, 1, downloaded.files.join(', '))
      const deb = await readFile(join(downloaded.dir, downloaded.files[0]!))
      // the same bytes as the gateway serves, verified against the Packages index
      const served = Buffer.from(await (await fetch(`${node.url}/apt/debian/pool/main/h/hello/${encodeURIComponent(downloaded.files[0]!.replace(/%3a/gi, ':'))}`)).arrayBuffer())
      assert.equal(createHash('sha256').update(deb).digest('hex'), createHash('sha256').update(served).digest('hex'))
      const pool = (await run('ls', ['-1', join(mountDir, 'apt', 'debian', 'pool', 'main', 'h', 'hello')])).stdout
      assert.match(pool, /^hello_.*_amd64\.deb$/m)
    } finally {
      await apt.remove()
    }
  })

  it('after kill -9 the stale mount is cleared and the next start mounts again', async () => {
    node.child.kill('SIGKILL')
    await node.exited
    await assert.rejects(stat(join(mountDir, 'npm')), { code: 'ENOTCONN' })
    node = await startNode()
    const { stdout } = await run('cat', [file(mountDir)], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 })
    assert.ok(stdout.equals(tarball))
    assert.equal(registry.count('/mounted-pkg/-/mounted-pkg-1.0.0.tgz'), 1, 'served from the cache')
  })

  it('unmounts cleanly when the node stops', async () => {
    assert.equal(await node.stop(), 0)
    assert.equal(await isMounted(mountDir), false)
  })
})
