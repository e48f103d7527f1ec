import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { startAptRepository, type AptRepository } from '../helpers/apt-repository.ts'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { cleanEnv } from '../helpers/npm-client.ts'
import { startOciRegistry, type OciRegistry } from '../helpers/oci-registry.ts'
import { startStaticPypi, type StaticPypi } from '../helpers/static-pypi.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'
import type { Summary } from '../../src/prefetch/summary.ts'

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const JSON_PAGE = 'application/vnd.pypi.simple.v1+json'

interface Run { code: number | null, stdout: string, stderr: string }

/** `dpm ARGS…` as its own process; with `tty`, inside a pseudo-terminal (`script`), where the bar is drawn. */
async function dpm (args: string[], options: { cwd?: string, tty?: boolean } = {}): Promise<Run> {
  const command = [process.execPath, MAIN, ...args]
  const quoted = command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  const child = options.tty === true
    ? spawn('script', ['-qefc', `stty cols 120; ${quoted}`, '/dev/null'], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(command[0]!, command.slice(1), { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

const summaryOf = (run: Run): Summary => {
  try {
    return JSON.parse(run.stdout) as Summary
  } catch {
    throw new Error(`no JSON summary (exit ${run.code}): ${run.stdout}\n${run.stderr}`)
  }
}

/** `dpm prefetch` pointed at a node holding the four formats, each in front of a real local upstream. */
describe('dpm prefetch', () => {
  let npm: FakeNpmRegistry
  let pypi: StaticPypi
  let oci: OciRegistry
  let apt: AptRepository
  let node: TestNode
  let dir: string
  const paths: Record<'npm' | 'pypi' | 'oci' | 'apt', string[]> = { npm: [], pypi: [], oci: [], apt: [] }
  const files = { lock: '', requirements: '', images: '', apt: '' }
  const aptSource = ['--apt', 'test', 'stable', '--arch', 'amd64']
  const prefetch = async (...args: string[]): Promise<Run> => await dpm(['prefetch', '--url', node.url, ...args], { cwd: dir })
  const everything = (): string[] => [files.lock, files.requirements, files.images, files.apt, ...aptSource]
  /** Gateway requests since `mark`, but for the health check that tells prefetch what the node serves. */
  const requestsSince = (mark: number): string[] => node.logs.slice(mark).filter((l) => l.msg === 'request' && l.path !== '/-/health').map((l) => String(l.path))

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dpm-prefetch-'))
    npm = await startFakeNpmRegistry()
    npm.publish('pf-app-dep', { version: '2.0.0', tarball: randomBytes(40_000) })
    npm.publish('pf-app-dep', { version: '2.1.0', tarball: randomBytes(50_000) })
    npm.publish('@pf/scoped', { version: '1.2.0', tarball: randomBytes(3 * 1024 * 1024 + 17) })
    npm.publish('pf-top', { version: '1.0.0', tarball: randomBytes(10_000), manifest: { dependencies: { 'pf-app-dep': '^2.0.0', '@pf/scoped': '1.2.0' } } })
    ;[pypi, oci, apt] = await Promise.all([
      startStaticPypi({ projects: [{ name: 'neo-util', version: '1.0.0' }, { name: 'neo-util', version: '1.1.0' }, { name: 'neo-lib', version: '2.0.0', requires: ['neo-util>=1'] }] }),
      startOciRegistry({ layers: 2, layerBytes: 64 * 1024 }),
      startAptRepository([{ name: 'dpm-hello', version: '1.0' }, { name: 'dpm-plus', version: '2.0+dfsg-1' }, { name: 'dpm-other', version: '1.0' }])
    ])
    node = await startTestNode({
      npmUpstream: npm.url,
      settings: { plugin_env: { DPM_PYPI_UPSTREAM: pypi.indexUrl, DPM_OCI_UPSTREAMS: `reg.test=${oci.url}`, DPM_APT_UPSTREAMS: `test=${apt.url}` } }
    })

    // npm: a real lockfile, written by npm itself against the node (packuments only; no tarball is fetched yet)
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'pf-project', version: '1.0.0', private: true, dependencies: { 'pf-top': '1.0.0' } }))
    await writeFile(join(dir, 'npmrc'), '')
    const locked = await new Promise<Run>((resolve) => {
      const child = spawn('npm', ['install', '--package-lock-only', '--registry', `${node.url}/npm/`, '--userconfig', join(dir, 'npmrc'), '--cache', join(dir, 'npm-cache'), '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel', 'error'], { cwd: dir, env: cleanEnv() })
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
      child.on('exit', (code) => { resolve({ code, stdout: '', stderr }) })
    })
    assert.equal(locked.code, 0, locked.stderr)
    files.lock = join(dir, 'package-lock.json')
    const lock = JSON.parse(await readFile(files.lock, 'utf8')) as { packages: Record<string, unknown> }
    // what a workspace adds to a lockfile: a link and its folder, neither in any registry
    lock.packages['node_modules/pf-local'] = { resolved: 'packages/pf-local', link: true }
    lock.packages['packages/pf-local'] = { name: 'pf-local', version: '0.0.0' }
    await writeFile(files.lock, JSON.stringify(lock, null, 2))
    paths.npm = ['/npm/pf-top/-/pf-top-1.0.0.tgz', '/npm/pf-app-dep/-/pf-app-dep-2.1.0.tgz', '/npm/@pf/scoped/-/scoped-1.2.0.tgz']

    // pypi: one pin with every file of its version, one with the hash pip-compile writes, one unpinned
    const page = await (await fetch(`${pypi.indexUrl}neo-lib/`, { headers: { accept: JSON_PAGE } })).json() as { files: Array<{ filename: string, hashes: { sha256: string }, 'core-metadata'?: unknown }> }
    const libWheel = page.files.find((f) => f.filename.endsWith('.whl'))!
    files.requirements = join(dir, 'requirements.txt')
    await writeFile(files.requirements, `# pinned\nneo-util==1.0.0\nneo-lib==2.0.0 \\\n    --hash=sha256:${libWheel.hashes.sha256}\nneo-util>=1.0\n`)
    const utilFiles = (await pypi.files()).filter((f) => f.startsWith('neo_util-1.0.0'))
    assert.ok(libWheel['core-metadata'] !== undefined && utilFiles.length === 2, 'wheels with their .metadata')
    paths.pypi = ['/pypi/simple/neo-util/', '/pypi/simple/neo-lib/', ...utilFiles.map((f) => `/pypi/files/neo-util/${f}`), `/pypi/files/neo-lib/${libWheel.filename}`, `/pypi/files/neo-lib/${libWheel.filename}.metadata`]

    // oci: the multi-platform image by tag, twice (the list's duplicate is one image)
    files.images = join(dir, 'ci.images')
    await writeFile(files.images, `# images the CI pulls\nreg.test/${oci.image.repository}:${oci.image.tag}\nreg.test/${oci.image.repository}:${oci.image.tag}  # again\n`)
    const base = `/v2/reg.test/${oci.image.repository}`
    paths.oci = [`${base}/manifests/${oci.image.tag}`, ...oci.image.manifests.map((d) => `${base}/manifests/${d}`), ...oci.image.blobs.map((d) => `${base}/blobs/${d}`)]

    // apt: one package at the newest version, one pinned
    files.apt = join(dir, 'base.apt')
    await writeFile(files.apt, 'dpm-hello\ndpm-plus=2.0+dfsg-1  # pinned\n')
    paths.apt = ['/apt/test/dists/stable/InRelease', 'by-hash', `/apt/test/${apt.poolPath('dpm-hello')}`, `/apt/test/${apt.poolPath('dpm-plus')}`]
  })

  after(async () => {
    await node?.destroy()
    await Promise.all([npm?.close(), pypi?.close(), oci?.close(), apt?.close()])
    await rm(dir, { recursive: true, force: true })
  })

  const total = (): number => paths.npm.length + paths.pypi.length + paths.oci.length + paths.apt.length

  it('fetches every item of four inputs through the node, all MISS, then the same paths are HIT at the gateway', async () => {
    const run = await prefetch('--json', '--concurrency', '4', ...everything())
    assert.equal(run.code, 0, run.stderr + run.stdout)
    const summary = summaryOf(run)
    assert.equal(total(), 3 + 6 + 9 + 4)
    assert.deepEqual(Object.keys(summary.byCache), ['MISS'])
    assert.equal(summary.byCache.MISS!.items, total())
    assert.equal(summary.items, total())
    assert.deepEqual(summary.failed, [])
    assert.deepEqual(summary.skipped.map((s) => [s.what, s.reason]), [
      ['node_modules/pf-local', 'a link to a folder'],
      ['packages/pf-local', 'a workspace folder'],
      ['line 5: neo-util>=1.0', 'not pinned to one version (>=1.0)']
    ])

    // without a TTY, a plain line per item, none redrawn
    const lines = run.stderr.trim().split('\n')
    assert.equal(lines.length, total())
    assert.ok(lines.every((l) => /^\[\d+\/\d+\] MISS +\S+ \S+ +\/(npm|pypi|v2|apt)\//.test(l)), run.stderr)
    assert.match(lines.at(-1)!, new RegExp(`^\\[${total()}/${total()}\\]`))
    assert.ok(!run.stderr.includes('\r') && !run.stderr.includes('\u001b'), 'no terminal control characters')

    // the bytes are the artifacts' own: npm's three tarballs are in there whole
    const tarballBytes = 10_000 + 50_000 + 3 * 1024 * 1024 + 17
    assert.ok(summary.bytes > tarballBytes, `${summary.bytes} bytes`)

    // each path the package managers will ask for is now in the node's store
    for (const path of [...paths.npm, ...paths.pypi.filter((p) => p.startsWith('/pypi/files/')), ...paths.oci.slice(1), ...paths.apt.slice(2)]) {
      const response = await fetch(`${node.url}${path}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' } })
      await response.arrayBuffer()
      assert.equal(response.status, 200, path)
      assert.equal(response.headers.get('x-cache'), 'HIT', path)
    }
    assert.equal(npm.count('/@pf/scoped/-/scoped-1.2.0.tgz'), 1)
    assert.equal(npm.count('/pf-app-dep/-/pf-app-dep-2.0.0.tgz'), 0, 'only the locked version')
    assert.equal(pypi.requests.filter((p) => p.includes('neo_util-1.1.0')).length, 0, 'only the pinned version\'s files')
    assert.equal(apt.requests.filter((p) => p.includes('dpm-other')).length, 0, 'only the listed packages')
  })

  it('a second run is all HIT, with the same items and bytes, and asks no upstream for anything', async () => {
    const first = summaryOf(await prefetch('--json', ...everything()))
    const upstreamBefore = [npm.requests.length, pypi.requests.length, oci.requests.length + oci.cdnRequests.length, apt.requests.length]
    // more lists naming the same things add nothing: one page, one index, one fetch per path
    const moreRequirements = join(dir, 'requirements-dev.txt')
    await writeFile(moreRequirements, 'neo-util==1.0.0\nneo-lib==2.0.0\n')
    const moreApt = join(dir, 'extra.apt')
    await writeFile(moreApt, 'dpm-hello dpm-plus\n')
    const run = await prefetch('--json', ...everything(), moreRequirements, moreApt, files.images)
    assert.equal(run.code, 0, run.stderr)
    const summary = summaryOf(run)
    assert.deepEqual(summary.byCache, { HIT: { items: total(), bytes: first.bytes } })
    assert.deepEqual([npm.requests.length, pypi.requests.length, oci.requests.length + oci.cdnRequests.length, apt.requests.length], upstreamBefore)
  })

  it('fetches only the platform asked for from a multi-platform index', async () => {
    const run = await prefetch('--json', '--platform', 'linux/arm64', files.images)
    assert.equal(run.code, 0, run.stderr)
    // the tag, arm64's manifest, its config and two layers
    assert.deepEqual(summaryOf(run).byCache.HIT?.items, 5)
    const none = await prefetch('--json', '--platform', 'windows/amd64', files.images)
    assert.equal(none.code, 1)
    assert.match(summaryOf(none).failed[0]!.error, /no manifest for windows\/amd64 in the index \(it has linux\/amd64, linux\/arm64\)/)
  })

  it('draws a progress bar on a terminal and prints the summary by X-Cache', async () => {
    const run = await dpm(['prefetch', '--url', node.url, files.lock, files.images], { cwd: dir, tty: true })
    assert.equal(run.code, 0, run.stdout)
    const items = paths.npm.length + paths.oci.length
    assert.match(run.stdout, /prefetch .*\d+\/\d+ items \| .*B \| 0 failed/)
    assert.match(run.stdout, new RegExp(`${items}/${items} items`))
    assert.match(run.stdout, new RegExp(`prefetched ${items} items, [\\d.]+ MB`))
    assert.match(run.stdout, new RegExp(`\\n  HIT +${items} items +[\\d.]+ MB`))
    assert.match(run.stdout, /skipped 2:\r?\n {2}\S*package-lock\.json: node_modules\/pf-local: a link to a folder/)
  })

  it('names each missing package, goes on with the rest, and exits 1', async () => {
    const lock = join(dir, 'missing', 'package-lock.json')
    await rm(join(dir, 'missing'), { recursive: true, force: true })
    await import('node:fs/promises').then(async (fs) => { await fs.mkdir(join(dir, 'missing')) })
    await writeFile(lock, JSON.stringify({ lockfileVersion: 3, packages: { '': {}, 'node_modules/pf-top': { version: '1.0.0' }, 'node_modules/pf-nowhere': { version: '1.0.0' } } }))
    const requirements = join(dir, 'missing', 'requirements.txt')
    await writeFile(requirements, 'neo-util==1.0.0\nneo-nowhere==1.0\nneo-util==9.9\n')
    const images = join(dir, 'missing', 'images.txt')
    await writeFile(images, `reg.test/${oci.image.repository}:no-such-tag\n`)
    const packages = join(dir, 'missing', 'base.apt')
    await writeFile(packages, 'dpm-hello\ndpm-nowhere\ndpm-plus=9.9\n')

    const run = await prefetch(lock, requirements, images, packages, ...aptSource)
    assert.equal(run.code, 1, run.stdout + run.stderr)
    const failed = run.stdout.slice(run.stdout.indexOf('failed ')).split('\n').filter(Boolean)
    assert.equal(failed[0], 'failed 6:')
    const expected = [
      /^ {2}pf-nowhere@1\.0\.0: \/npm\/pf-nowhere\/-\/pf-nowhere-1\.0\.0\.tgz: 404 Not Found/,
      /^ {2}neo-nowhere==1\.0: \/pypi\/simple\/neo-nowhere\/: 404/,
      /^ {2}neo-util==9\.9: \/pypi\/simple\/neo-util\/: no files of version 9\.9 on the page/,
      new RegExp(`^ {2}reg\\.test/${oci.image.repository}:no-such-tag: /v2/reg\\.test/${oci.image.repository}/manifests/no-such-tag: 404 Not Found: MANIFEST_UNKNOWN`),
      /^ {2}test stable dpm-nowhere: \/apt\/test\/dists\/stable\/main\/binary-amd64\/by-hash\/SHA256\/[0-9a-f]{64}: not in stable main\/binary-amd64$/,
      /^ {2}test stable dpm-plus=9\.9: .*: not in stable main\/binary-amd64 \(it has 2\.0\+dfsg-1\)$/
    ]
    for (const pattern of expected) assert.ok(failed.some((line) => pattern.test(line)), `${pattern} in:\n${failed.join('\n')}`)
    // what exists was still fetched
    assert.match(run.stdout, /^prefetched (\d+) items/)
    assert.match(run.stderr, /FAIL +\S+ \S+ +\/npm\/pf-nowhere\/-\/pf-nowhere-1\.0\.0\.tgz/)
  })

  it('stops at bad usage or an input it cannot read, with one line naming the file, before fetching anything', async () => {
    const write = async (name: string, text: string): Promise<string> => {
      const path = join(dir, 'bad', name)
      await import('node:fs/promises').then(async (fs) => { await fs.mkdir(join(dir, 'bad'), { recursive: true }) })
      await writeFile(path, text)
      return path
    }
    const notJson = await write('package-lock.json', '{"lockfileVersion": 3, "packages": {')
    const cases: Array<[string[], RegExp]> = [
      [[notJson], /^dpm prefetch: \S*bad\/package-lock\.json: not JSON \(.+\)$/],
      [[join(dir, 'bad', 'nothing-here.images')], /^dpm prefetch: \S*nothing-here\.images: no such file$/],
      [[await write('requirements.txt', 'neo-util==1.0.0\n%%% what\n')], /^dpm prefetch: \S*requirements\.txt: line 2: not a requirement: %%% what$/],
      [[await write('prod.images', 'reg.test/UPPER:1\n')], /^dpm prefetch: \S*prod\.images: line 1: not a repository name/],
      [[await write('notes.txt', 'x\n')], /^dpm prefetch: \S*notes\.txt: cannot tell what kind of list this is by its name: give --format npm\|pypi\|oci\|apt before it$/],
      [[await write('tools.apt', 'curl\n')], /^dpm prefetch: \S*tools\.apt: an apt list needs --apt NAME SUITE/],
      [['-'], /^dpm prefetch: -: cannot tell what kind of list this is by its name/],
      [[files.lock, '--format', 'pypi', notJson], /^dpm prefetch: \S*bad\/package-lock\.json: line 1: not a requirement/],
      [['--concurrency', '0', files.lock], /^dpm prefetch: --concurrency must be a whole number from 1 to 256 \(got "0"\)$/],
      [['--format', 'cargo', files.lock], /^dpm prefetch: --format must be one of npm, pypi, oci, apt \(got "cargo"\)$/],
      [['--bogus', files.lock], /^dpm prefetch: unknown option --bogus$/],
      [[files.apt, '--apt', 'nosuch', 'stable'], /^dpm prefetch: the node at \S+ has no apt repository named "nosuch" \(it has test; see DPM_APT_UPSTREAMS\)$/],
      [[], /^usage: dpm prefetch/]
    ]
    const mark = node.logs.length
    for (const [args, message] of cases) {
      const run = await prefetch(...args)
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr.split('\n')[0]!, message)
      assert.equal(run.stdout, '')
    }
    assert.deepEqual(requestsSince(mark), [], 'the gateway was asked for nothing')
  })

  it('says in one line when no node answers, and exits 1', async () => {
    const run = await dpm(['prefetch', '--url', 'http://127.0.0.1:9', files.lock], { cwd: dir })
    assert.equal(run.code, 1)
    assert.match(run.stderr, /^dpm prefetch: no node answers at http:\/\/127\.0\.0\.1:9 \(.+\): is `dpm start` running there\?/)
    assert.equal(run.stderr.trim().split('\n').length, 1)
  })
})
