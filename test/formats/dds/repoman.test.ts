import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { makeSdist, packageDir } from '../../helpers/dds-packages.ts'
import { runDpm, type DpmRun } from '../../helpers/run-dpm.ts'
import { startStaticFiles, type StaticFiles } from '../../helpers/static-files.ts'

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
/** The real sqlite3 CLI, so what is checked is the file, not our reader of it. */
const sql = (db: string, query: string): string => execFileSync('sqlite3', ['-batch', '-separator', '|', db, query], { encoding: 'utf8' }).trim()
const repoman = async (...args: string[]): Promise<DpmRun> => await runDpm(['repoman', ...args])

/** A failure: the exit code, and one line on stderr that says what is wrong. */
function fails (run: DpmRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, `exit ${run.code}: ${run.stderr}`)
  const first = run.stderr.split('\n')[0]!
  assert.match(first, pattern)
  if (code === 1) assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`)
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace')
}

describe('dpm repoman: a static dds repository directory', () => {
  let work: string
  let repo: string
  let files: StaticFiles
  const db = (): string => join(repo, 'repo.db')

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'dpm-repoman-'))
    repo = join(work, 'repo')
    files = await startStaticFiles(join(work, 'served'))
    await mkdir(join(work, 'served'), { recursive: true })
  })
  after(async () => {
    await files.close()
    await rm(work, { recursive: true, force: true })
  })

  it('init creates repo.db in the dds schema, repo.db.gz and pkg/', async () => {
    const run = await repoman('init', repo, '--name', 'acme-libs')
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual((await readdir(repo)).sort(), ['pkg', 'repo.db', 'repo.db.gz'])
    const tables = sql(db(), "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").split('\n')
    assert.deepEqual(tables, ['dds_repo_meta', 'dds_repo_package_deps', 'dds_repo_packages', 'dpm_package_digests'])
    const columns = (table: string): string => sql(db(), `SELECT name || ':' || type || ':' || "notnull" || ':' || pk FROM pragma_table_info('${table}')`).replaceAll('\n', ',')
    assert.equal(columns('dds_repo_meta'), 'meta_version:INTEGER:0:0,version:INTEGER:1:0,name:TEXT:1:0')
    assert.equal(columns('dds_repo_packages'), 'package_id:INTEGER:0:1,name:TEXT:1:0,version:TEXT:1:0,description:TEXT:1:0,url:TEXT:1:0')
    assert.equal(columns('dds_repo_package_deps'), 'dep_id:INTEGER:0:1,package_id:INTEGER:1:0,dep_name:TEXT:1:0,low:TEXT:1:0,high:TEXT:1:0,kind:TEXT:1:0')
    assert.match(sql(db(), "SELECT sql FROM sqlite_master WHERE name = 'dds_repo_packages'"), /UNIQUE \(name, version\)/)
    assert.match(sql(db(), "SELECT sql FROM sqlite_master WHERE name = 'dds_repo_package_deps'"), /REFERENCES dds_repo_packages\s+ON DELETE CASCADE[\s\S]*UNIQUE \(package_id, dep_name, kind\)/)
    assert.equal(sql(db(), 'SELECT meta_version, version, name FROM dds_repo_meta'), '1|2|acme-libs')
    assert.deepEqual(gunzipSync(await readFile(`${db()}.gz`)), await readFile(db()))
  })

  it('import stores each sdist under pkg/<name>/<version>/ and lists it as dds:<name>@<version>, with its dependencies and sha256', async () => {
    const base = await makeSdist({ name: 'acme-base', version: '1.0.0' })
    const widgets = await makeSdist({ name: 'acme-widgets', version: '2.1.0', depends: ['acme-base^1.0.0', 'neo-fun~0.3.2', 'exact=1.2.3'], manifestName: 'package.jsonc' })
    const run = await repoman('import', repo, base, widgets)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /imported acme-base@1\.0\.0/)
    for (const [name, version, file] of [['acme-base', '1.0.0', base], ['acme-widgets', '2.1.0', widgets]] as const) {
      const stored = await readFile(join(repo, 'pkg', name, version, 'sdist.tar.gz'))
      assert.deepEqual(stored, await readFile(file), `${name} stored byte for byte`)
      assert.equal(sql(db(), `SELECT p.url || '|' || d.sha256 || '|' || d.size FROM dds_repo_packages p JOIN dpm_package_digests d USING (package_id) WHERE name = '${name}' AND version = '${version}'`), `dds:${name}@${version}|${sha256(stored)}|${stored.byteLength}`)
    }
    assert.equal(sql(db(), "SELECT description FROM dds_repo_packages WHERE name = 'acme-base'"), '[No description]')
    assert.equal(sql(db(), "SELECT dep_name, low, high, kind FROM dds_repo_package_deps JOIN dds_repo_packages USING (package_id) WHERE name = 'acme-widgets' ORDER BY dep_name"),
      'acme-base|1.0.0|2.0.0|lib\nexact|1.2.3|1.2.4|lib\nneo-fun|0.3.2|0.4.0|lib')
    assert.deepEqual(gunzipSync(await readFile(`${db()}.gz`)), await readFile(db()), 'repo.db.gz rewritten')
    assert.deepEqual((await readdir(repo)).sort(), ['pkg', 'repo.db', 'repo.db.gz'], 'no temporary file left behind')
  })

  it('ls lists name@version and URL', async () => {
    const run = await repoman('ls', repo)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, 'acme-base@1.0.0\tdds:acme-base@1.0.0\nacme-widgets@2.1.0\tdds:acme-widgets@2.1.0\n')
  })

  it('add lists an https archive by its URL, reading its manifest from one fetch', async () => {
    // a forge's archive of a tag: the package one directory down
    const dir = await packageDir({ name: 'remote-lib', version: '0.4.1', depends: ['acme-base+1.0.0'] })
    execFileSync('tar', ['-czf', join(work, 'served', 'remote-lib-0.4.1.tar.gz'), '-C', join(dir, '..'), dir.slice(dir.lastIndexOf('/') + 1)])
    const url = `${files.url}remote-lib-0.4.1.tar.gz`
    const asked = files.requests.length
    const run = await repoman('add', repo, url, '--description', 'A remote library')
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(files.requests.slice(asked).map((r) => r.path), ['/remote-lib-0.4.1.tar.gz'], 'fetched once')
    assert.equal(sql(db(), "SELECT url, description FROM dds_repo_packages WHERE name = 'remote-lib' AND version = '0.4.1'"), `${url}|A remote library`)
    assert.equal(sql(db(), "SELECT dep_name, low FROM dds_repo_package_deps JOIN dds_repo_packages USING (package_id) WHERE name = 'remote-lib'"), 'acme-base|1.0.0')
    assert.equal(sql(db(), "SELECT count(*) FROM dpm_package_digests JOIN dds_repo_packages USING (package_id) WHERE name = 'remote-lib'"), '0', 'a listing has no sdist here')
  })

  it('add clones a git+http URL at the ref its fragment names (real git, served over HTTP)', async () => {
    const dir = await packageDir({ name: 'git-lib', version: '3.0.0' })
    const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, encoding: 'utf8' })
    git('init', '-q'); git('add', '.'); git('commit', '-q', '-m', 'v3'); git('tag', 'v3.0.0')
    execFileSync('git', ['clone', '-q', '--bare', dir, join(work, 'served', 'git-lib.git')])
    execFileSync('git', ['update-server-info'], { cwd: join(work, 'served', 'git-lib.git') })
    const url = `git+${files.url}git-lib.git#v3.0.0`
    const run = await repoman('add', repo, url)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(sql(db(), "SELECT url FROM dds_repo_packages WHERE name = 'git-lib' AND version = '3.0.0'"), url)
    fails(await repoman('add', repo, `git+${files.url}git-lib.git#no-such-tag`), 1, /git clone .* at no-such-tag failed/)
  })

  it('refuses what dds refuses, each with one clear line', async () => {
    const base = await makeSdist({ name: 'acme-base', version: '1.0.0' })
    fails(await repoman('import', repo, base), 1, /acme-base@1\.0\.0 is already in the repository/)
    fails(await repoman('add', repo, `${files.url}remote-lib-0.4.1.tar.gz`), 1, /remote-lib@0\.4\.1 is already in the repository/)
    fails(await repoman('import', repo, await makeSdist({ name: 'bare', version: '1.0.0', noManifest: true })), 1, /holds no package manifest/)
    await writeFile(join(work, 'served', 'plain.tar.gz'), await readFile(await makeSdist({ name: 'plain', version: '1.0.0', noManifest: true })))
    fails(await repoman('add', repo, `${files.url}plain.tar.gz`), 1, /holds no package manifest/)
    fails(await repoman('add', repo, `${files.url}missing.tar.gz`), 1, /answered 404/)
    fails(await repoman('add', repo, 'git+https://git.example/lib.git'), 1, /needs a fragment naming the Git ref/)
    fails(await repoman('add', repo, 'github:owner/repo'), 1, /github:owner\/repo\/ref, exactly three path elements/)
    fails(await repoman('add', repo, 'github:owner/repo/ref/extra'), 1, /exactly three path elements/)
    fails(await repoman('add', repo, 'ftp://example.org/x.tar.gz'), 1, /unsupported URL scheme/)
    fails(await repoman('import', repo, join(work, 'no-such.tar.gz')), 1, /no such file/)
    await writeFile(join(work, 'garbage.tar.gz'), 'not an archive')
    fails(await repoman('import', repo, join(work, 'garbage.tar.gz')), 1, /not a whole \.tar\.gz archive/)
    fails(await repoman('import', repo, await makeSdist({ name: '../evil', version: '1.0.0' })), 1, /invalid package name/)
    fails(await repoman('import', repo, await makeSdist({ name: 'evil', version: '../1.0.0' })), 1, /invalid version/)
    fails(await repoman('init', repo, '--name', 'again'), 1, /is a repository already/)
    fails(await repoman('ls', join(work, 'nothing-here')), 1, /is not a repository/)
    fails(await repoman('remove', repo, 'acme-base@9.9.9'), 1, /acme-base@9\.9\.9 is not in the repository/)
    fails(await repoman('remove', repo, 'acme-base'), 1, /is not NAME@VERSION/)
    fails(await repoman('init', join(work, 'x')), 2, /init needs --name NAME/)
    fails(await repoman('init', join(work, 'y'), '--name', 'Bad/Name'), 1, /invalid repository name/)
    fails(await repoman(), 2, /name a command/)
    fails(await repoman('frobnicate'), 2, /unknown command "frobnicate"/)
    fails(await repoman('import', repo), 2, /import DIR ARCHIVE/)
    fails(await repoman('ls', repo, '--bogus'), 2, /bogus/)
    assert.equal(sql(db(), 'SELECT count(*) FROM dds_repo_packages'), '4', 'nothing was added by the failures')
  })

  it('remove drops the listing, its dependencies and its sdist, and rewrites repo.db.gz', async () => {
    const run = await repoman('remove', repo, 'acme-widgets@2.1.0')
    assert.equal(run.code, 0, run.stderr)
    assert.equal(sql(db(), "SELECT count(*) FROM dds_repo_packages WHERE name = 'acme-widgets'"), '0')
    assert.equal(sql(db(), 'PRAGMA foreign_keys = 1; SELECT count(*) FROM dds_repo_package_deps WHERE package_id NOT IN (SELECT package_id FROM dds_repo_packages)'), '0')
    assert.deepEqual((await readdir(join(repo, 'pkg'))).sort(), ['acme-base'])
    assert.deepEqual(gunzipSync(await readFile(`${db()}.gz`)), await readFile(db()))
    assert.doesNotMatch((await repoman('ls', repo)).stdout, /acme-widgets/)
  })
})
