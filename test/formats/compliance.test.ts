import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { after } from 'node:test'
import type { FormatPluginFactory } from '../../formats/index.ts'
import { describeAdapterCompliance } from '../../formats/testing/compliance.ts'
import { startAptRepository } from '../helpers/apt-repository.ts'
import { startCargoRegistry } from '../helpers/cargo-registry.ts'
import { makeSdist } from '../helpers/dds-packages.ts'
import { startFakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { startOciRegistry } from '../helpers/oci-registry.ts'
import { startStaticFiles } from '../helpers/static-files.ts'
import { startStaticPypi } from '../helpers/static-pypi.ts'
import { importArchive, initRepository } from '../../src/repoman/repository.ts'

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const hostOf = (url: string): string => new URL(url).host
const BAD_PATHS = ['/..%2f..%2fetc%2fpasswd', '/%2e%2e/x', '/a%00b', '/%zz']

// npm, built in
const npm = await startFakeNpmRegistry()
const npmTarball = randomBytes(5000)
npm.publish('left-pad', { version: '1.0.0', tarball: npmTarball })
npm.publish('broken', { version: '1.0.0', tarball: randomBytes(100), wrongIntegrity: true })
describeAdapterCompliance('npm', {
  env: { DPM_NPM_UPSTREAM: npm.url },
  prefix: '/npm',
  metadata: ['/left-pad'],
  artifacts: [{ path: '/left-pad/-/left-pad-1.0.0.tgz', sha256: sha256(npmTarball) }],
  corruptArtifact: '/broken/-/broken-1.0.0.tgz',
  bad: [...BAD_PATHS, '/left-pad/-/..%2f..%2fx.tgz', '/_bad%20name'],
  upstreamRequests: () => npm.requests.length,
  upstreamHosts: [hostOf(npm.url)]
})

// Cargo, built in on the plugin API
const cargo = await startCargoRegistry([{ name: 'dpm-leaf', version: '0.1.0', lib: 'pub fn leaf() {}\n' }, { name: 'dpm-bad', version: '1.0.0', lib: '\n' }])
cargo.corrupt('dpm-bad', '1.0.0')
const leaf = await (await fetch(`${cargo.url}config.json`)).json() as { dl: string }
const leafBytes = new Uint8Array(await (await fetch(leaf.dl.replaceAll('{crate}', 'dpm-leaf').replaceAll('{version}', '0.1.0'))).arrayBuffer())
describeAdapterCompliance('cargo', {
  env: { DPM_CARGO_UPSTREAMS: `test=sparse+${cargo.url}` },
  prefix: '/cargo/test',
  metadata: ['/config.json', '/dp/m-/dpm-leaf'],
  artifacts: [{ path: '/api/v1/crates/dpm-leaf/0.1.0/download', sha256: sha256(leafBytes) }],
  corruptArtifact: '/api/v1/crates/dpm-bad/1.0.0/download',
  bad: [...BAD_PATHS, '/api/v1/crates/dpm-leaf/..%2f/download', '/api/v1/crates/dpm-leaf/not-a-version/download', '/api/v1/crates/bad%20name/1.0.0/download'],
  upstreamRequests: () => cargo.requests.length,
  upstreamHosts: [hostOf(cargo.url), hostOf(leaf.dl)]
})

// PyPI, built in on the plugin API: pages on one host, files on another
const pypi = await startStaticPypi({ projects: [{ name: 'neo-util', version: '1.0.0' }, { name: 'neo-bad', version: '1.0.0' }] })
const pypiFiles = await pypi.files()
const wheel = pypiFiles.find((f) => f.startsWith('neo_util-') && f.endsWith('.whl'))!
pypi.tampered.set(pypiFiles.find((f) => f.startsWith('neo_bad-') && f.endsWith('.whl'))!, randomBytes(200))
const pypiPage = await (await fetch(`${pypi.indexUrl}neo-util/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json() as { files: Array<{ filename: string, url: string, hashes: { sha256: string }, 'core-metadata': { sha256: string } }> }
const wheelEntry = pypiPage.files.find((f) => f.filename === wheel)!
describeAdapterCompliance('pypi', {
  env: { DPM_PYPI_UPSTREAM: pypi.indexUrl },
  prefix: '/pypi',
  metadata: ['/simple/', '/simple/neo-util/'],
  artifacts: [
    { path: `/files/neo-util/${wheel}`, sha256: wheelEntry.hashes.sha256 },
    { path: `/files/neo-util/${wheel}.metadata`, sha256: wheelEntry['core-metadata'].sha256 }
  ],
  corruptArtifact: `/files/neo-bad/${pypiFiles.find((f) => f.startsWith('neo_bad-') && f.endsWith('.whl'))!}`,
  bad: [...BAD_PATHS, '/simple/..%2f..%2fx/', '/simple/-bad-/', '/files/Neo_Util/x.whl', '/files/neo-util/..%2fx.whl'],
  upstreamRequests: () => pypi.requests.length,
  upstreamHosts: [hostOf(pypi.indexUrl), hostOf(wheelEntry.url)]
})

// apt, built in on the plugin API: a repository signed with a key made for the test
const apt = await startAptRepository([{ name: 'dpm-hello', version: '1.0' }, { name: 'dpm-bad', version: '1.0' }])
const aptFile = async (path: string): Promise<Buffer> => Buffer.from(await (await fetch(`${apt.url}${path}`)).arrayBuffer())
const packagesXz = sha256(await aptFile('dists/stable/main/binary-amd64/Packages.xz'))
apt.tampered.set(apt.poolPath('dpm-bad'), randomBytes(300))
describeAdapterCompliance('apt', {
  env: { DPM_APT_UPSTREAMS: `test=${apt.url}` },
  prefix: '/apt/test',
  metadata: ['/dists/stable/InRelease', '/dists/stable/Release', '/dists/stable/Release.gpg'],
  artifacts: [
    // the index first: the pool file after it is verified against the entry it lists
    { path: `/dists/stable/main/binary-amd64/by-hash/SHA256/${packagesXz}`, sha256: packagesXz },
    { path: '/dists/stable/main/binary-amd64/Packages.gz', sha256: sha256(await aptFile('dists/stable/main/binary-amd64/Packages.gz')) },
    { path: `/${apt.poolPath('dpm-hello')}`, sha256: sha256(await aptFile(apt.poolPath('dpm-hello'))) }
  ],
  corruptArtifact: `/${apt.poolPath('dpm-bad')}`,
  bad: [...BAD_PATHS, '/pool/main/..%2f..%2fx.deb', '/dists/stable/main/binary-amd64/by-hash/SHA256/not-hex', '/dists/stable/main/binary-amd64/by-hash/MD5Sum/00'],
  upstreamRequests: () => apt.requests.length,
  upstreamHosts: [hostOf(apt.url)]
})

// OCI, built in on the plugin API: Debian's docker-registry behind a token server, blobs on a CDN host
const oci = await startOciRegistry({ layers: 2, layerBytes: 64 * 1024 })
const [corruptBlob, ...blobs] = oci.image.blobs
oci.tampered.set(corruptBlob!, randomBytes(500))
const ociPath = (kind: string, reference: string): string => `/reg.test/${oci.image.repository}/${kind}/${reference}`
describeAdapterCompliance('oci', {
  env: { DPM_OCI_UPSTREAMS: `reg.test=${oci.url}` },
  prefix: '/v2',
  metadata: [ociPath('manifests', oci.image.tag), ociPath('manifests', oci.image.manifests[0]!)],
  artifacts: blobs.slice(0, 2).map((digest) => ({ path: ociPath('blobs', digest), sha256: digest.slice('sha256:'.length) })),
  corruptArtifact: ociPath('blobs', corruptBlob!),
  bad: [...BAD_PATHS, '/reg.test/test/app/blobs/sha256:zz', '/reg.test/Test/manifests/1', '/test/app/manifests/1?ns=evil.example', '/reg.test/test/..%2fapp/manifests/1'],
  upstreamRequests: () => oci.requests.length + oci.cdnRequests.length,
  upstreamHosts: [hostOf(oci.url)]
})

// dds, built in on the plugin API: a repository made by repoman behind a static server
const ddsRoot = await mkdtemp(join(tmpdir(), 'dpm-compliance-dds-'))
await initRepository(join(ddsRoot, 'test'), 'test')
await importArchive(join(ddsRoot, 'test'), await makeSdist({ name: 'acme-base', version: '1.0.0' }))
await importArchive(join(ddsRoot, 'test'), await makeSdist({ name: 'acme-bad', version: '1.0.0' }))
await writeFile(join(ddsRoot, 'test', 'pkg', 'acme-bad', '1.0.0', 'sdist.tar.gz'), randomBytes(400))
const dds = await startStaticFiles(ddsRoot)
describeAdapterCompliance('dds', {
  env: { DPM_DDS_UPSTREAMS: `test=${dds.url}test/` },
  prefix: '/dds',
  metadata: ['/test/repo.db.gz'],
  artifacts: [{ path: '/test/pkg/acme-base/1.0.0/sdist.tar.gz', sha256: sha256(await readFile(join(ddsRoot, 'test', 'pkg', 'acme-base', '1.0.0', 'sdist.tar.gz'))) }],
  corruptArtifact: '/test/pkg/acme-bad/1.0.0/sdist.tar.gz',
  bad: [...BAD_PATHS, '/test/pkg/..%2f..%2fx/1.0.0/sdist.tar.gz', '/test/pkg/acme-base/not-a-version/sdist.tar.gz', '/test/pkg/acme%2fbase/1.0.0/sdist.tar.gz', '/Test/repo.db.gz', `/test/pkg/${'a'.repeat(300)}/1.0.0/sdist.tar.gz`],
  upstreamRequests: () => dds.requests.length,
  upstreamHosts: [hostOf(dds.url)]
})

// an outside plugin, loaded as a package from a local path: a directory of files with a SHA256SUMS list
const files = new Map([['tool-1.0.tar.gz', randomBytes(4000)], ['broken.bin', randomBytes(300)]])
const sumsList = [...files].map(([name, bytes]) => `${name === 'broken.bin' ? sha256(randomBytes(1)) : sha256(bytes)}  ${name}`).join('\n') + '\n'
let sumsRequests = 0
const sumsServer = createServer((req, res) => {
  sumsRequests++
  const name = decodeURIComponent((req.url ?? '/').slice(1))
  const body = name === 'SHA256SUMS' ? Buffer.from(sumsList) : files.get(name)
  res.writeHead(body === undefined ? 404 : 200).end(body)
})
await new Promise<void>((resolve) => sumsServer.listen(0, '127.0.0.1', resolve))
const sumsUrl = `http://127.0.0.1:${(sumsServer.address() as AddressInfo).port}/`
const pluginDir = fileURLToPath(new URL('../fixtures/dpm-format-sums/', import.meta.url))
describeAdapterCompliance('an outside plugin (test/fixtures/dpm-format-sums)', {
  plugin: { name: 'dpm-format-sums', factory: (await import(pathToFileURL(`${pluginDir}index.js`).href) as { default: FormatPluginFactory }).default },
  env: { DPM_SUMS_UPSTREAM: sumsUrl },
  prefix: '/sums',
  metadata: ['/SHA256SUMS'],
  artifacts: [{ path: '/tool-1.0.tar.gz', sha256: sha256(files.get('tool-1.0.tar.gz')!) }],
  corruptArtifact: '/broken.bin',
  bad: [...BAD_PATHS, '/a%2fb'],
  upstreamRequests: () => sumsRequests,
  upstreamHosts: [hostOf(sumsUrl)]
})

after(async () => {
  await npm.close()
  await cargo.close()
  await pypi.close()
  await apt.close()
  await oci.close()
  await dds.close()
  await rm(ddsRoot, { recursive: true, force: true })
  await new Promise((resolve) => sumsServer.close(resolve))
})
