import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startStaticFiles, type StaticFiles } from '../helpers/static-files.ts'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { runDpm } from '../helpers/run-dpm.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'

/** A dds sdist: the manifest at the root, a header beside it (the system tar). */
async function sdist (dir: string, name: string, version: string, depends: string[] = [], description?: string): Promise<string> {
  const tree = await mkdtemp(join(tmpdir(), 'dpm-catalog-pkg-'))
  await mkdir(join(tree, 'src'), { recursive: true })
  await writeFile(join(tree, 'src', 'lib.hpp'), `// ${name} ${version}\n`)
  await writeFile(join(tree, 'package.json5'), `{\n  name: '${name}',\n  namespace: 'neo',\n  version: '${version}',\n${description === undefined ? '' : `  description: '${description}',\n`}  depends: [${depends.map((d) => `'${d}'`).join(', ')}],\n}\n`)
  const out = join(dir, `${name}-${version}.tar.gz`)
  execFileSync('tar', ['-czf', out, '-C', tree, '.'])
  await rm(tree, { recursive: true, force: true })
  return out
}

const NEO_SEARCH = `    Name: neo-buffer
Versions: 0.2.1, 0.3.0, 0.10.0
    From: neo-repo

    Name: neo-concepts
Versions: 0.4.0
    From: neo-repo

    Name: neo-fun
Versions: 0.1.0
    From: neo-repo
`

describe('the package catalog: dpm repo and dpm pkg search against a dds repository built by dpm repoman', () => {
  let registry: FakeNpmRegistry
  let work: string
  let repoDir: string
  let files: StaticFiles
  let t: TestNode
  let repoUrl: string
  const dpm = async (...args: string[]) => await runDpm([...args, '--url', t.url])
  const repoDbRequests = (): StaticFiles['requests'] => files.requests.filter((r) => r.path === '/neo/repo.db.gz')

  before(async () => {
    registry = await startFakeNpmRegistry()
    work = await mkdtemp(join(tmpdir(), 'dpm-catalog-'))
    repoDir = join(work, 'neo')
    assert.equal((await runDpm(['repoman', 'init', repoDir, '--name', 'neo-repo'])).code, 0)
    const archives = [
      await sdist(work, 'neo-buffer', '0.10.0'), await sdist(work, 'neo-buffer', '0.2.1'), await sdist(work, 'neo-buffer', '0.3.0'),
      await sdist(work, 'neo-concepts', '0.4.0'), await sdist(work, 'neo-fun', '0.1.0', ['neo-buffer^0.2.1'], 'Fun with neo'), await sdist(work, 'other-lib', '1.0.0')
    ]
    const imported = await runDpm(['repoman', 'import', repoDir, ...archives])
    assert.equal(imported.code, 0, imported.stderr)
    files = await startStaticFiles(work)
    repoUrl = `${files.url}neo/`
    t = await startTestNode({ npmUpstream: registry.url })
  })
  after(async () => {
    await t?.destroy()
    await files?.close()
    await registry?.close()
    await rm(work, { recursive: true, force: true })
  })

  it('repo add detects a dds repository, pulls its listing and names it as the repository does', async () => {
    const added = await dpm('repo', 'add', repoUrl)
    assert.equal(added.stderr, '')
    assert.equal(added.code, 0)
    assert.equal(added.stdout, `added neo-repo (dds, ${repoUrl}): 6 packages\n`)
    const ls = await dpm('repo', 'ls')
    assert.equal(ls.code, 0, ls.stderr)
    const lines = ls.stdout.trimEnd().split('\n')
    assert.match(lines[0]!, /^NAME\s+FORMAT\s+PACKAGES\s+UPDATED \(UTC\)\s+URL$/)
    assert.match(lines[1]!, new RegExp(`^neo-repo\\s+dds\\s+6\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+${repoUrl}$`))
    assert.equal(lines.length, 2)
  })

  it('pkg search prints Name, Versions (sorted by version) and From, as dds does', async () => {
    const search = await dpm('pkg', 'search', 'neo-*')
    assert.equal(search.code, 0, search.stderr)
    assert.equal(search.stdout, NEO_SEARCH)
    const upper = await dpm('pkg', 'search', 'NEO-B*')
    assert.equal(upper.stdout, NEO_SEARCH.split('\n\n')[0] + '\n', 'case-insensitive')
    const all = await dpm('pkg', 'search')
    assert.match(all.stdout, /Name: other-lib\nVersions: 1\.0\.0\n {4}From: neo-repo\n$/, 'no glob is *')

    const api = await (await fetch(`${t.url}/-/api/search?q=neo-f*`)).json()
    assert.deepEqual(api, { query: 'neo-f*', packages: [{ name: 'neo-fun', versions: ['0.1.0'], from: ['neo-repo'], description: 'Fun with neo' }], packagesTruncated: false, suggestions: [], cached: [], truncated: false })
  })

  it('a search with no match says so in one line, names the closest names and exits 1', async () => {
    const miss = await dpm('pkg', 'search', 'neo-bufer')
    assert.equal(miss.code, 1)
    assert.equal(miss.stdout, '')
    assert.equal(miss.stderr, 'dpm pkg search: no package matches "neo-bufer"; the closest names: neo-buffer\n')
    const none = await dpm('pkg', 'search', 'zzzzzzzz*')
    assert.equal(none.code, 1)
    assert.equal(none.stderr, 'dpm pkg search: no package matches "zzzzzzzz*"\n')
    const bad = await dpm('pkg', 'search', '[oops')
    assert.equal(bad.code, 2, 'a glob that cannot be read is bad usage')
    assert.equal(bad.stderr, 'dpm pkg search: not a glob: unclosed "[" at position 1\n')
  })

  it('the dds adapter serves an added repository at /dds/<name>/', async () => {
    const db = await fetch(`${t.url}/dds/neo-repo/repo.db.gz`)
    assert.equal(db.status, 200)
    assert.deepEqual(Buffer.from(await db.arrayBuffer()), await readFile(join(repoDir, 'repo.db.gz')))
    const res = await fetch(`${t.url}/dds/neo-repo/pkg/neo-buffer/0.2.1/sdist.tar.gz`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-cache'), 'MISS')
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), await readFile(join(repoDir, 'pkg', 'neo-buffer', '0.2.1', 'sdist.tar.gz')))
  })

  it('repo update sends the validators and skips a repository that answers 304', async () => {
    const before = repoDbRequests().length
    const served = repoDbRequests().findLast((r) => r.status === 200)
    assert.ok(served !== undefined)
    const update = await dpm('repo', 'update')
    assert.equal(update.code, 0, update.stderr)
    assert.equal(update.stdout, 'neo-repo: not modified, skipped\n')
    const asked = repoDbRequests().slice(before)
    assert.equal(asked.length, 1, 'one request for the listing')
    assert.ok(asked[0]!.ifNoneMatch !== undefined && asked[0]!.ifModifiedSince !== undefined, 'a conditional request')
    assert.equal(asked[0]!.status, 304)
    assert.equal((await dpm('pkg', 'search', 'neo-*')).stdout, NEO_SEARCH)
  })

  it('repo update re-imports a changed repository', async () => {
    const imported = await runDpm(['repoman', 'import', repoDir, await sdist(work, 'neo-buffer', '0.4.0'), await sdist(work, 'neo-zlib', '1.2.13')])
    assert.equal(imported.code, 0, imported.stderr)
    const update = await dpm('repo', 'update', 'neo-repo')
    assert.equal(update.code, 0, update.stderr)
    assert.equal(update.stdout, 'neo-repo: updated, 8 packages\n')
    assert.equal(repoDbRequests().at(-1)!.status, 200)
    const search = await dpm('pkg', 'search', 'neo-{buffer,zlib}')
    assert.equal(search.stdout, '    Name: neo-buffer\nVersions: 0.2.1, 0.3.0, 0.4.0, 0.10.0\n    From: neo-repo\n\n    Name: neo-zlib\nVersions: 1.2.13\n    From: neo-repo\n')
  })

  it('a repository that answers garbage fails clearly and the catalog keeps its previous listing', async () => {
    files.override.set('/neo/repo.db.gz', randomBytes(3000))
    try {
      const update = await dpm('repo', 'update')
      assert.equal(update.code, 1)
      assert.match(update.stderr, /^neo-repo: failed: .*repo\.db\.gz is not a dds repository database: .* \(the previous listing stays\)\n$/)
      files.override.set('/neo/repo.db.gz', Buffer.from('<html>not found</html>'))
      assert.equal((await dpm('repo', 'update')).code, 1)
    } finally {
      files.override.delete('/neo/repo.db.gz')
    }
    assert.match((await dpm('pkg', 'search', 'neo-buffer')).stdout, /Versions: 0\.2\.1, 0\.3\.0, 0\.4\.0, 0\.10\.0\n/)
  })

  it('a restarted node keeps the catalog', async () => {
    await t.stop()
    t = await startTestNode({ npmUpstream: registry.url, dataDir: t.dataDir })
    const ls = await dpm('repo', 'ls')
    assert.match(ls.stdout, /\nneo-repo\s+dds\s+8\s/)
    assert.match((await dpm('pkg', 'search', 'neo-f*')).stdout, /^ {4}Name: neo-fun\nVersions: 0\.1\.0\n {4}From: neo-repo\n$/)
  })

  it('the dashboard shows the catalog\'s packages beside the cached records', async () => {
    const page = await (await fetch(`${t.url}/?q=neo-b*`)).text()
    assert.match(page, /data-testid="package-result"><td><code>neo-buffer<\/code><\/td><td>0\.2\.1, 0\.3\.0, 0\.4\.0, 0\.10\.0<\/td><td>neo-repo<\/td>/)
    const miss = await (await fetch(`${t.url}/?q=neo-bufer`)).text()
    assert.match(miss, /data-testid="suggestion">neo-buffer</)
  })

  it('repo remove takes the listing out of the catalog; an already-cached sdist is still served', async () => {
    const removed = await dpm('repo', 'remove', 'neo-repo')
    assert.equal(removed.code, 0, removed.stderr)
    assert.equal(removed.stdout, 'removed neo-repo: 8 packages left the catalog (what is cached stays available through the gateway)\n')
    const search = await dpm('pkg', 'search', 'neo-*')
    assert.equal(search.code, 1)
    assert.equal(search.stderr, 'dpm pkg search: no package matches "neo-*"; the catalog is empty: add a repository with `dpm repo add URL`\n')
    assert.equal((await dpm('repo', 'ls')).stdout, 'no repositories: add one with `dpm repo add URL`\n')
    const requests = files.requests.length
    const res = await fetch(`${t.url}/dds/neo-repo/pkg/neo-buffer/0.2.1/sdist.tar.gz`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-cache'), 'HIT')
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), await readFile(join(repoDir, 'pkg', 'neo-buffer', '0.2.1', 'sdist.tar.gz')))
    assert.equal(files.requests.length, requests, 'served from the store, the repository not asked')
  })
})
