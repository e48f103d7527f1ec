import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { globSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as v from 'valibot'
import { createVenv, type Venv } from '../../helpers/pip-client.ts'
import { spawnNode, type SpawnedNode } from '../../helpers/spawn-node.ts'
import { startStaticPypi, type StaticPypi } from '../../helpers/static-pypi.ts'
import { generateSwarmKey } from '../../helpers/swarm-key.ts'
import { health, waitFor } from '../../helpers/wait-for.ts'

const PROJECTS = [
  { name: 'neo-util', version: '1.0.0' },
  { name: 'Neo_Util', version: '1.1.0', requires_python: '>=3.8' },
  { name: 'neo-lib', version: '2.0.0', requires: ['neo-util>=1.1'] },
  { name: 'neo.app', version: '0.3.0', requires: ['neo-lib>=2'] },
  { name: 'neo-bad', version: '1.0.0' },
  { name: 'neo-html', version: '1.0.0' },
  { name: 'neo-json', version: '1.0.0' },
  { name: 'neo-yank', version: '1.0.0' },
  { name: 'neo-yank', version: '2.0.0', yanked: 'broken <build>' }
]
/** Debian's own wheels of pip and setuptools: real wheels built elsewhere. */
const DEBIAN_WHEELS = '/usr/share/python-wheels'
/**
 * Debian 12's pip (23.0.1) reads PEP 658 metadata only from HTML pages; pip reads
 * PEP 714's `core-metadata` from JSON since 23.2. A newer pip wheel, where this
 * host has one (Python builds bundle theirs for ensurepip), is served by the test
 * index so that a venv can upgrade to it through the node.
 */
const PEP_714_PIP = [23, 2]
const pipVersionOf = (wheel: string): string => /pip-([\d.]+)-/.exec(wheel)![1]!
const MODERN_PIP = findModernPip()

function findModernPip (): string | undefined {
  const newer = (wheel: string): boolean => {
    const [major = 0, minor = 0] = pipVersionOf(wheel).split('.').map(Number)
    return major > PEP_714_PIP[0]! || (major === PEP_714_PIP[0] && minor >= PEP_714_PIP[1]!)
  }
  const pyenv = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv')
  const found = globSync(`${pyenv}/versions/*/lib/python3*/ensurepip/_bundled/pip-*.whl`).concat(globSync('/usr/lib/python3*/ensurepip/_bundled/pip-*.whl'))
  return found.filter(newer).sort((x, y) => pipVersionOf(y).localeCompare(pipVersionOf(x), undefined, { numeric: true }))[0]
}

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json'
/** PEP 691 (with PEP 700's and PEP 714's fields) for a project page, strictly: no field the PEPs do not name. */
const hashes = v.record(v.pipe(v.string(), v.regex(/^[a-z0-9_]+$/)), v.pipe(v.string(), v.regex(/^[0-9a-f]+$/)))
const ProjectDetail = v.strictObject({
  meta: v.strictObject({ 'api-version': v.picklist(['1.0', '1.1']) }),
  name: v.pipe(v.string(), v.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'a normalized name')),
  versions: v.optional(v.array(v.string())),
  files: v.array(v.strictObject({
    filename: v.string(),
    url: v.pipe(v.string(), v.url()),
    hashes,
    'requires-python': v.optional(v.string()),
    'core-metadata': v.optional(v.union([v.boolean(), hashes])),
    'gpg-sig': v.optional(v.boolean()),
    yanked: v.optional(v.union([v.boolean(), v.string()])),
    size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    'upload-time': v.optional(v.pipe(v.string(), v.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/)))
  }))
})

/** `X-Cache` of the responses the node logged for paths matching `path`, since log line `since`. */
const cacheOf = async (node: SpawnedNode, path: RegExp, since: number): Promise<string[]> =>
  (await node.requests(since, path)).map((l) => String(l.cache))
const FILES = /^\/pypi\/files\//

/** The real `pip`, in fresh venvs, through a node whose upstream is a static index with files on another host. */
describe('pip through a node', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  const key = generateSwarmKey()
  let upstream: StaticPypi
  let a: SpawnedNode
  const start = async (env: Record<string, string>): Promise<SpawnedNode> => {
    const dir = await mkdtemp(join(tmpdir(), 'dpm-pypi-node-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const node = await spawnNode({ dataDir: dir, env: { DPM_SWARM_KEY: key, DPM_PYPI_UPSTREAM: upstream.indexUrl, ...env } })
    cleanup.push(() => node.stop())
    return node
  }
  const venv = async (): Promise<Venv> => {
    const made = await createVenv()
    cleanup.push(() => made.remove())
    return made
  }
  const indexOf = (node: SpawnedNode): string => `${node.url}/pypi/simple/`

  before(async () => {
    const wheels = (await readdir(DEBIAN_WHEELS)).filter((f) => /^(pip|setuptools)-.*\.whl$/.test(f)).map((f) => join(DEBIAN_WHEELS, f))
    if (MODERN_PIP !== undefined) wheels.push(MODERN_PIP)
    upstream = await startStaticPypi({ projects: PROJECTS, wheels })
    cleanup.push(() => upstream.close())
    a = await start({})
  })
  after(async () => { for (const step of cleanup.reverse()) await step() })

  it('installs a project and its dependencies through the node, choosing versions by Requires-Python', async () => {
    const env = await venv()
    const mark = (await a.settled()).length
    const installed = await env.pip('install', '--index-url', indexOf(a), 'neo.app')
    assert.ok(installed.ok, installed.stderr)
    const versions = await env.python('-c', 'import importlib.metadata as m; print(*(m.version(p) for p in ("neo.app", "neo-lib", "neo-util")))')
    assert.equal(versions.stdout.trim(), '0.3.0 2.0.0 1.1.0')
    const fetched = (await a.requests(mark, FILES)).map((l) => l.path)
    assert.ok(fetched.some((p) => p.endsWith('neo_lib-2.0.0-py3-none-any.whl')))
    assert.ok((await cacheOf(a, FILES, mark)).every((c) => c === 'MISS'))
  })

  it('upgrades pip through the node; the new pip resolves from PEP 658 .metadata files', { skip: MODERN_PIP === undefined && `no pip wheel of ${PEP_714_PIP} or newer on this host` }, async () => {
    const env = await venv()
    const upgraded = await env.pip('install', '--index-url', indexOf(a), '--upgrade', `pip==${pipVersionOf(MODERN_PIP!)}`)
    assert.ok(upgraded.ok, upgraded.stderr)
    const mark = (await a.settled()).length
    // neo-util 1.0.0 and 1.1.0 are both candidates: the resolver reads metadata, then downloads the one it installs
    const installed = await env.pip('install', '--index-url', indexOf(a), 'neo-lib')
    assert.ok(installed.ok, installed.stderr)
    const fetched = (await a.requests(mark, FILES)).map((l) => l.path)
    assert.ok(fetched.includes('/pypi/files/neo-lib/neo_lib-2.0.0-py3-none-any.whl.metadata'), `no .metadata file was asked for: ${fetched.join(', ')}`)
    assert.ok(fetched.includes('/pypi/files/neo-util/Neo_Util-1.1.0-py3-none-any.whl'))
  })

  it('downloads again entirely from the cache: every file a HIT, the upstream\'s files host not asked', async () => {
    const env = await venv()
    const first = await mkdtemp(join(tmpdir(), 'dpm-pip-download-'))
    const second = await mkdtemp(join(tmpdir(), 'dpm-pip-download-'))
    cleanup.push(() => rm(first, { recursive: true, force: true }), () => rm(second, { recursive: true, force: true }))
    const once = await env.pip('download', '--index-url', indexOf(a), '--dest', first, 'neo.app', 'setuptools')
    assert.ok(once.ok, once.stderr)
    const mark = (await a.settled()).length
    const filesAsked = upstream.requests.filter((p) => p.startsWith('/files/')).length
    const twice = await env.pip('download', '--index-url', indexOf(a), '--dest', second, 'neo.app', 'setuptools')
    assert.ok(twice.ok, twice.stderr)
    const caches = await cacheOf(a, FILES, mark)
    assert.ok(caches.length >= 4)
    assert.deepEqual([...new Set(caches)], ['HIT'])
    assert.equal(upstream.requests.filter((p) => p.startsWith('/files/')).length, filesAsked)
    // byte for byte what the upstream has: Debian's setuptools wheel among them
    const downloaded = (await readdir(second)).sort()
    assert.deepEqual(downloaded, (await readdir(first)).sort())
    const setuptools = downloaded.find((f) => f.startsWith('setuptools-'))!
    assert.deepEqual(await readFile(join(second, setuptools)), await readFile(join(DEBIAN_WHEELS, setuptools)))
  })

  it('answers PEP 691 JSON or PEP 503 HTML by Accept, with links to the node and the upstream\'s fields kept', async () => {
    const json = await fetch(`${indexOf(a)}neo-util/`, { headers: { accept: `${JSON_TYPE}, text/html;q=0.1` } })
    assert.equal(json.headers.get('content-type'), JSON_TYPE)
    assert.match(json.headers.get('vary') ?? '', /accept/i)
    const page = v.parse(ProjectDetail, await json.json())
    assert.equal(page.name, 'neo-util')
    assert.deepEqual(page.versions, ['1.0.0', '1.1.0'])
    const newer = page.files.find((f) => f.filename === 'Neo_Util-1.1.0-py3-none-any.whl')!
    assert.equal(newer.url, `${a.url}/pypi/files/neo-util/Neo_Util-1.1.0-py3-none-any.whl`)
    assert.equal(newer['requires-python'], '>=3.8')
    assert.equal(typeof newer.size, 'number')
    assert.match((newer['core-metadata'] as Record<string, string>).sha256 ?? '', /^[0-9a-f]{64}$/)
    assert.ok(!('dist-info-metadata' in newer), 'PEP 714: the old name breaks pip < 23.1 in JSON')
    // the file and its metadata, served by the node, hash to what the page says
    const wheel = Buffer.from(await (await fetch(newer.url)).arrayBuffer())
    assert.equal(createHash('sha256').update(wheel).digest('hex'), newer.hashes.sha256)
    const metadata = await fetch(`${newer.url}.metadata`)
    assert.equal(metadata.status, 200)
    assert.equal(createHash('sha256').update(Buffer.from(await metadata.arrayBuffer())).digest('hex'), (newer['core-metadata'] as Record<string, string>).sha256)

    const html = await fetch(`${indexOf(a)}neo-util/`)
    assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8')
    const body = await html.text()
    assert.match(body, new RegExp(`href="${a.url}/pypi/files/neo-util/Neo_Util-1\\.1\\.0-py3-none-any\\.whl#sha256=${newer.hashes.sha256}"`))
    assert.match(body, /data-requires-python="&#62;=3\.8"/)
    assert.match(body, /data-core-metadata="sha256=[0-9a-f]{64}"/)

    const root = await fetch(indexOf(a), { headers: { accept: JSON_TYPE } })
    assert.deepEqual((await root.json() as { projects: Array<{ name: string }> }).projects.map((p) => p.name).sort(), ['neo-app', 'neo-bad', 'neo-html', 'neo-json', 'neo-lib', 'neo-util', 'neo-yank', 'pip', 'setuptools'])
  })

  it('keeps a yanked file\'s reason in both forms, and pip passes over it', async () => {
    const json = v.parse(ProjectDetail, await (await fetch(`${indexOf(a)}neo-yank/`, { headers: { accept: JSON_TYPE } })).json())
    assert.deepEqual(json.files.map((f) => [f.filename, f.yanked]), [['neo_yank-1.0.0-py3-none-any.whl', undefined], ['neo_yank-2.0.0-py3-none-any.whl', 'broken <build>']])
    const html = await (await fetch(`${indexOf(a)}neo-yank/`)).text()
    assert.match(html, /neo_yank-2\.0\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}"[^>]* data-yanked="broken &#60;build&#62;"/)
    const env = await venv()
    const installed = await env.pip('install', '--index-url', indexOf(a), 'neo-yank')
    assert.ok(installed.ok, installed.stderr)
    assert.equal((await env.python('-c', 'import importlib.metadata as m; print(m.version("neo-yank"))')).stdout.trim(), '1.0.0')
  })

  it('redirects other spellings of a name to its normal form, and refuses what it cannot answer', async () => {
    for (const [path, location] of [['Neo_Util/', '../neo-util/'], ['neo-util', 'neo-util/'], ['NEO.util', 'neo-util/']]) {
      const response = await fetch(`${indexOf(a)}${path}`, { redirect: 'manual' })
      assert.equal(response.status, 301, path)
      assert.equal(response.headers.get('location'), location, path)
    }
    assert.equal((await fetch(`${indexOf(a)}neo-util/`, { headers: { accept: 'application/xml' } })).status, 406)
    assert.equal((await fetch(`${indexOf(a)}..%2f..%2fetc/`)).status, 400)
    assert.equal((await fetch(`${indexOf(a)}-bad-/`)).status, 400)
    assert.equal((await fetch(`${a.url}/pypi/files/Neo_Util/x.whl`)).status, 400, 'files live under the normal name only')
    assert.equal((await fetch(`${a.url}/pypi/files/neo-util/neo_util-9.9.9-py3-none-any.whl`)).status, 404)
    assert.equal((await fetch(`${indexOf(a)}no-such-project/`)).status, 404)
  })

  it('refuses a file whose bytes do not match the published sha256: pip never sees them, nothing is kept', async () => {
    const bad = 'neo_bad-1.0.0-py3-none-any.whl'
    upstream.tampered.set(bad, Buffer.from('not the wheel the index describes'))
    const env = await venv()
    const installed = await env.pip('install', '--index-url', indexOf(a), '--no-deps', `${a.url}/pypi/files/neo-bad/${bad}`)
    assert.ok(!installed.ok)
    const direct = await fetch(`${a.url}/pypi/files/neo-bad/${bad}`)
    assert.equal(direct.status, 502)
    assert.match(await direct.text(), /sha256/)
    upstream.tampered.delete(bad)
    const fixed = await fetch(`${a.url}/pypi/files/neo-bad/${bad}`)
    assert.equal(fixed.status, 200)
    assert.equal(fixed.headers.get('x-cache'), 'MISS', 'the refused bytes were not kept')
    await fixed.arrayBuffer()
  })

  it('reads an upstream that speaks only HTML, or only JSON', async () => {
    for (const [forms, project] of [['html', 'neo-html'], ['json', 'neo-json']] as const) {
      upstream.forms = forms
      const env = await venv()
      const installed = await env.pip('install', '--index-url', indexOf(a), project)
      assert.ok(installed.ok, `${forms}: ${installed.stderr}`)
      const json = v.parse(ProjectDetail, await (await fetch(`${indexOf(a)}${project}/`, { headers: { accept: JSON_TYPE } })).json())
      assert.equal(json.files.length, 1)
    }
    upstream.forms = 'both'
  })

  it('installs with the upstream down: from the cache on A, from the swarm on a second node', async () => {
    upstream.up = false
    const env = await venv()
    const mark = (await a.settled()).length
    const again = await env.pip('install', '--index-url', indexOf(a), 'neo.app')
    assert.ok(again.ok, again.stderr)
    assert.ok((await cacheOf(a, /^\/pypi\/simple\//, mark)).every((c) => c === 'STALE' || c === 'HIT'))

    const b = await start({ DPM_BOOTSTRAP: (await health(a.url)).multiaddrs[0]! })
    await waitFor('B to pull A\'s index', () => b.logs.some((l) => l.msg === 'pulled a peer\'s index' && Number(l.records) > 0))
    const other = await venv()
    const fromSwarm = await other.pip('install', '--index-url', indexOf(b), 'neo.app')
    assert.ok(fromSwarm.ok, fromSwarm.stderr)
    const caches = await cacheOf(b, /^\/pypi\//, 0)
    assert.ok(caches.length > 0 && caches.every((c) => c === 'PEER'), caches.join(', '))
    upstream.up = true
  })
})
