import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startAptRepository, type AptRepository } from '../helpers/apt-repository.ts'
import { startStaticFiles, type StaticFiles } from '../helpers/static-files.ts'
import { startFakeNpmRegistry, type FakeNpmRegistry } from '../helpers/fake-npm-registry.ts'
import { freePort } from '../helpers/free-port.ts'
import { runDpm } from '../helpers/run-dpm.ts'
import { startStaticPypi, type StaticPypi } from '../helpers/static-pypi.ts'
import { startTestNode, type TestNode } from '../helpers/test-node.ts'

/** The listings of apt, PyPI and npm repositories in the catalog, and what the admin API refuses. */
describe('the package catalog: apt, PEP 503 and npm listings; the admin API\'s refusals', () => {
  let registry: FakeNpmRegistry
  let apt: AptRepository
  let pypi: StaticPypi
  let empty: StaticFiles
  let emptyDir: string
  let t: TestNode
  const dpm = async (...args: string[]) => await runDpm([...args, '--url', t.url])
  const api = async (method: string, path: string, body?: string): Promise<{ status: number, json: { error?: string } & Record<string, unknown> }> => {
    const res = await fetch(`${t.url}${path}`, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) })
    return { status: res.status, json: await res.json() as never }
  }

  before(async () => {
    registry = await startFakeNpmRegistry()
    registry.publish('neo-left', { version: '1.0.0', tarball: randomBytes(2000) })
    registry.publish('neo-left', { version: '1.10.0', tarball: randomBytes(2000) })
    registry.publish('neo-left', { version: '1.2.0', tarball: randomBytes(2000) })
    apt = await startAptRepository([{ name: 'neo-tool', version: '1.2-1' }, { name: 'neo-tool-doc', version: '1:0.9~rc1-2' }])
    pypi = await startStaticPypi({ projects: [{ name: 'neo-py', version: '1.0' }, { name: 'Other_Py', version: '2.0' }] })
    emptyDir = await mkdtemp(join(tmpdir(), 'dpm-catalog-empty-'))
    empty = await startStaticFiles(emptyDir)
    // a web page that is no repository of any kind
    empty.override.set('/site/', Buffer.from('<html><body><p>hello</p></body></html>'))
    t = await startTestNode({ npmUpstream: registry.url })
  })
  after(async () => {
    await t?.destroy()
    await Promise.all([registry?.close(), apt?.close(), pypi?.close(), empty?.close()])
    await rm(emptyDir, { recursive: true, force: true })
  })

  it('an apt repository given as a deb line: its Packages index read, versions in Debian order', async () => {
    const added = await dpm('repo', 'add', apt.url, 'stable', 'main', '--arch', 'amd64', '--name', 'local-apt')
    assert.equal(added.code, 0, added.stderr)
    assert.equal(added.stdout, `added local-apt (apt, ${apt.url} stable main [amd64]): 2 packages\n`)
    assert.ok(apt.requests.includes('/debian/dists/stable/main/binary-amd64/Packages.gz'), 'the gzip index was read')
    const search = await dpm('pkg', 'search', 'NEO-TOOL*')
    assert.equal(search.stdout, '    Name: neo-tool\nVersions: 1.2-1\n    From: local-apt\n\n    Name: neo-tool-doc\nVersions: 1:0.9~rc1-2\n    From: local-apt\n')
    const found = await (await fetch(`${t.url}/-/api/search?q=neo-tool`)).json() as { packages: Array<{ description?: string }> }
    assert.equal(found.packages[0]!.description, 'a package for DPM\'s tests')

    // a suite the repository does not have: a clear failure, nothing registered
    const missing = await dpm('repo', 'add', apt.url, 'oldstable', '--arch', 'amd64', '--name', 'old-apt')
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^dpm repo: POST \/-\/api\/repos: no Packages index at .*dists\/oldstable\/main\/binary-amd64\/Packages\{\.gz,\.xz,\}/)
    assert.doesNotMatch((await dpm('repo', 'ls')).stdout, /old-apt/)
  })

  it('a PEP 503 index: project names only, named after the URL\'s host, versions said to be on each project\'s page', async () => {
    const added = await dpm('repo', 'add', pypi.indexUrl)
    assert.equal(added.code, 0, added.stderr)
    assert.equal(added.stdout, `added 127.0.0.1 (pypi, ${pypi.indexUrl}): 2 packages\n`)
    const search = await dpm('pkg', 'search', 'neo-py')
    assert.equal(search.stdout, '    Name: neo-py\nVersions: (not in the listing: a PEP 503 index names each project\'s versions on the project\'s own page)\n    From: 127.0.0.1\n')
    // the index gives no validators: an update pulls it again
    const update = await dpm('repo', 'update', '127.0.0.1')
    assert.equal(update.stdout, '127.0.0.1: updated, 2 packages\n')
  })

  it('npm: the catalog is what the node has cached, versions from the cached tarballs', async () => {
    const other = await dpm('repo', 'add', 'http://127.0.0.1:9/', '--format', 'npm')
    assert.equal(other.code, 1)
    assert.match(other.stderr, /an npm registry has no full listing: its catalog is what this node cached from its own npm upstream/)

    const added = await dpm('repo', 'add', `${registry.url}/`, '--format', 'npm', '--name', 'npm-cache')
    assert.equal(added.code, 0, added.stderr)
    assert.equal(added.stdout, 'added npm-cache (npm, ' + new URL(`${registry.url}/`).href + '): 0 packages cached (an npm registry has no full listing: its catalog is what this node has cached)\n')
    for (const path of ['/npm/neo-left', '/npm/neo-left/-/neo-left-1.10.0.tgz', '/npm/neo-left/-/neo-left-1.2.0.tgz']) {
      const res = await fetch(`${t.url}${path}`)
      await res.arrayBuffer()
      assert.equal(res.status, 200, path)
    }
    assert.equal((await dpm('pkg', 'search', 'neo-left')).stdout, '    Name: neo-left\nVersions: 1.2.0, 1.10.0\n    From: npm-cache\n')
    assert.equal((await dpm('repo', 'update', 'npm-cache')).stdout, 'npm-cache: 2 packages cached (npm has no full listing to pull)\n')
    const ls = (await dpm('repo', 'ls')).stdout
    assert.match(ls, /\nnpm-cache\s+npm\s+2\s+the cache\s+http:\/\/127\.0\.0\.1:\d+\/\n/)
  })

  it('repo add refuses bad bodies, unknown formats, duplicates and unreachable or unknowable URLs', async () => {
    const refusals: Array<[string, string | undefined, number, RegExp]> = [
      ['POST', undefined, 400, /expected a JSON body/],
      ['POST', '{"url": ', 400, /the body is not JSON/],
      ['POST', '[]', 400, /expected a JSON object/],
      ['POST', '{}', 400, /expected "url"/],
      ['POST', '{"url": 5}', 400, /expected "url": the repository's URL/],
      ['POST', '{"url": "ftp://host/repo/"}', 400, /expected an http:\/\/ or https:\/\/ URL/],
      ['POST', '{"url": "not a url"}', 400, /not a URL/],
      ['POST', '{"url": "http://user:pw@host/"}', 400, /credentials/],
      ['POST', `{"url": "${pypi.indexUrl}", "bogus": 1}`, 400, /unknown field "bogus"/],
      ['POST', `{"url": "${pypi.indexUrl}", "format": "rpm"}`, 400, /unknown format "rpm": one of dds, apt, pypi, npm/],
      ['POST', `{"url": "${pypi.indexUrl}", "update": "yes"}`, 400, /"update" to be true or false/],
      ['POST', `{"url": "${pypi.indexUrl}", "suites": ["../x"]}`, 400, /suites/],
      ['POST', `{"url": "${pypi.indexUrl}", "format": "pypi", "suites": ["stable"]}`, 400, /for apt repositories, not pypi/],
      ['POST', `{"url": "${apt.url}", "format": "apt"}`, 400, /needs a suite/],
      ['POST', `{"url": "${pypi.indexUrl}"}`, 409, /registered already, as "127\.0\.0\.1"/],
      ['POST', `{"url": "${empty.url}site/", "format": "pypi", "name": "127.0.0.1"}`, 502, /not a PEP 503 index/],
      ['POST', `{"url": "${empty.url}site/", "format": "dds", "update": false, "name": "Bad.Name"}`, 400, /cannot name a dds repository/],
      ['POST', `{"url": "${empty.url}site/"}`, 400, /cannot tell what kind of repository .* give --format \(dds, apt, pypi or npm\)/],
      ['POST', `{"url": "http://127.0.0.1:${await freePort()}/repo/", "format": "dds"}`, 502, /unreachable/]
    ]
    for (const [method, body, status, error] of refusals) {
      const { status: got, json } = await api(method, '/-/api/repos', body)
      assert.equal(got, status, `${body}: ${JSON.stringify(json)}`)
      assert.match(json.error ?? '', error, String(body))
      assert.equal(Object.keys(json).length, 1, 'only the error, never a stack')
    }
    // a name taken: 409 and a hint
    const taken = await api('POST', '/-/api/repos', JSON.stringify({ url: `${empty.url}other/`, format: 'dds', update: false, name: 'local-apt' }))
    assert.equal(taken.status, 409)
    assert.match(taken.json.error ?? '', /a repository named "local-apt" exists already/)
    // registered without a pull: known by its name, listed with nothing yet
    const later = await api('POST', '/-/api/repos', JSON.stringify({ url: `${empty.url}later/`, format: 'dds', update: false, name: 'later' }))
    assert.equal(later.status, 201)
    assert.equal((later.json.update as { status: string }).status, 'not-pulled')
    const update = await dpm('repo', 'update', 'later')
    assert.equal(update.code, 1)
    assert.match(update.stderr, /^later: failed: .*later\/repo\.db\.gz answered 404: is .* a dds repository\? \(the previous listing stays\)\n$/)
    assert.equal((await dpm('repo', 'remove', 'later')).code, 0)
  })

  it('remove and update refuse unknown names; the commands fail in one line with their exit codes', async () => {
    const unknown = await api('DELETE', '/-/api/repos/nope')
    assert.equal(unknown.status, 404)
    assert.match(unknown.json.error ?? '', /no repository is named "nope": there are "127\.0\.0\.1", "local-apt", "npm-cache"/)
    const update = await api('POST', '/-/api/repos/update', '{"names": ["nope"]}')
    assert.equal(update.status, 404)
    assert.equal((await api('POST', '/-/api/repos/update', '{"names": "x"}')).status, 400)
    assert.equal((await api('POST', '/-/api/repos/update', '{"other": 1}')).status, 400)

    const removed = await dpm('repo', 'remove', 'nope')
    assert.equal(removed.code, 1)
    assert.equal(removed.stderr.split('\n').length, 2, 'one line')
    assert.match(removed.stderr, /^dpm repo: DELETE \/-\/api\/repos\/nope: no repository is named "nope"/)
    for (const args of [['repo'], ['repo', 'frob'], ['repo', 'add'], ['repo', 'remove'], ['repo', 'ls', 'extra'], ['repo', 'update', '--name', 'x'], ['pkg'], ['pkg', 'find'], ['pkg', 'search', 'a', 'b'], ['repo', 'ls', '--bogus']]) {
      const run = await dpm(...args)
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
      assert.equal(run.stdout, '')
    }
    const noNode = await runDpm(['repo', 'ls', '--url', `http://127.0.0.1:${await freePort()}`])
    assert.equal(noNode.code, 1)
    assert.match(noNode.stderr, /^dpm repo: no node answers at /)
  })
})
