import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile, copyFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

export interface AptPackage { name: string, version: string, /** Bytes of its one file, `/usr/share/<name>/data`. */ data?: string }

/**
 * A signed apt repository of real `.deb` files (`dpkg-deb --build`), indexed by
 * `apt-ftparchive` and signed by `gpg` with a key made for it, served by a plain
 * static HTTP server: `dists/stable/{InRelease,Release,Release.gpg}`,
 * `main/binary-amd64/Packages{,.gz,.xz}` and their by-hash copies, `pool/main/…`.
 */
export interface AptRepository {
  /** `http://127.0.0.1:PORT/debian/` */
  url: string
  /** The public key, for `Signed-By`. */
  keyring: string
  /** Paths requested, in order. */
  requests: string[]
  /** Switched off, every connection is dropped. */
  up: boolean
  /** Repository path → other bytes served in its place (the index still says the old ones). */
  tampered: Map<string, Uint8Array>
  /** Pool path of a package's `.deb`. */
  poolPath(name: string): string
  /** Builds the packages anew (same names and versions, other bytes), re-indexes and re-signs: a repository that overwrites its files. */
  republish(packages: AptPackage[]): Promise<void>
  close(): Promise<void>
}

export async function startAptRepository (packages: AptPackage[]): Promise<AptRepository> {
  const dir = await mkdtemp(join(tmpdir(), 'dpm-apt-repo-'))
  const root = join(dir, 'debian')
  const gnupg = join(dir, 'gnupg')
  await mkdir(gnupg, { mode: 0o700 })
  const gpg = (...args: string[]): Buffer => execFileSync('gpg', ['--batch', '--quiet', '--homedir', gnupg, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  gpg('--passphrase', '', '--quick-gen-key', 'DPM test repository <test@dpm.invalid>', 'ed25519', 'sign', 'never')
  const keyring = join(dir, 'repository.gpg')
  await writeFile(keyring, gpg('--export'))
  let generation = 0

  async function build (list: AptPackage[]): Promise<void> {
    generation++
    for (const pkg of list) {
      const tree = join(dir, 'build', `${pkg.name}-${generation}`)
      await mkdir(join(tree, 'DEBIAN'), { recursive: true })
      await mkdir(join(tree, 'usr', 'share', pkg.name), { recursive: true })
      await writeFile(join(tree, 'DEBIAN', 'control'), `Package: ${pkg.name}\nVersion: ${pkg.version}\nArchitecture: all\nMaintainer: DPM tests <test@dpm.invalid>\nDescription: a package for DPM's tests\n`)
      await writeFile(join(tree, 'usr', 'share', pkg.name, 'data'), `${pkg.data ?? pkg.name} (build ${generation})\n`)
      const deb = join(root, poolPath(pkg.name))
      await mkdir(dirname(deb), { recursive: true })
      execFileSync('dpkg-deb', ['--root-owner-group', '--build', tree, deb], { stdio: 'ignore' })
    }
    const binary = join(root, 'dists', 'stable', 'main', 'binary-amd64')
    await rm(join(root, 'dists', 'stable'), { recursive: true, force: true }).catch(() => {})
    await mkdir(binary, { recursive: true })
    // the hashes Debian's archive publishes: MD5 and SHA256 (apt would ask for by-hash/SHA512 if SHA512 were listed)
    const hashes = ['-o', 'APT::FTPArchive::SHA1=false', '-o', 'APT::FTPArchive::SHA512=false']
    const packagesFile = execFileSync('apt-ftparchive', [...hashes, 'packages', 'pool'], { cwd: root })
    await writeFile(join(binary, 'Packages'), packagesFile)
    execFileSync('sh', ['-c', 'gzip -9nk Packages && xz -k Packages'], { cwd: binary })
    await mkdir(join(binary, 'by-hash', 'SHA256'), { recursive: true })
    for (const name of ['Packages', 'Packages.gz', 'Packages.xz']) {
      const hex = createHash('sha256').update(await readFile(join(binary, name))).digest('hex')
      await copyFile(join(binary, name), join(binary, 'by-hash', 'SHA256', hex))
    }
    const suite = join(root, 'dists', 'stable')
    const release = execFileSync('apt-ftparchive', [
      ...hashes, '-o', 'APT::FTPArchive::Release::Suite=stable', '-o', 'APT::FTPArchive::Release::Codename=stable',
      '-o', 'APT::FTPArchive::Release::Components=main', '-o', 'APT::FTPArchive::Release::Architectures=amd64',
      '-o', 'APT::FTPArchive::Release::Acquire-By-Hash=yes', 'release', '.'
    ], { cwd: suite })
    // apt-ftparchive lists by-hash copies too; a real archive's Release does not
    const listed = release.toString().split('\n').filter((line) => !line.includes('/by-hash/')).join('\n')
    await writeFile(join(suite, 'Release'), listed)
    gpg('--yes', '--clearsign', '--digest-algo', 'SHA256', '-o', join(suite, 'InRelease'), join(suite, 'Release'))
    gpg('--yes', '--armor', '--detach-sign', '--digest-algo', 'SHA256', '-o', join(suite, 'Release.gpg'), join(suite, 'Release'))
  }

  function poolPath (name: string): string {
    return `pool/main/${name[0]}/${name}/${name}_${packages.find((p) => p.name === name)?.version ?? '1.0'}_all.deb`
  }

  await build(packages)
  const repo: AptRepository = {
    url: '',
    keyring,
    requests: [],
    up: true,
    tampered: new Map(),
    poolPath,
    republish: build,
    async close () {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await rm(dir, { recursive: true, force: true })
    }
  }
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    repo.requests.push(path)
    if (!repo.up) { req.socket.destroy(); return }
    const relative = path.replace(/^\/debian\//, '')
    const tampered = repo.tampered.get(relative)
    const file = join(root, relative)
    if (!path.startsWith('/debian/') || relative.split('/').includes('..')) { res.writeHead(404).end(); return }
    ;(tampered !== undefined ? Promise.resolve(tampered) : readFile(file)).then((bytes) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength }).end(req.method === 'HEAD' ? undefined : bytes)
    }, () => { res.writeHead(404).end() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  repo.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian/`
  return repo
}

/** Every file below a directory, relative to it. */
export async function filesBelow (dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort()
}
