import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseAptList } from '../../src/prefetch/apt-packages.ts'
import { compareDebianVersions } from '../../src/prefetch/debian-version.ts'
import { detectKind } from '../../src/prefetch/detect-kind.ts'
import { InputError } from '../../src/prefetch/input-error.ts'
import { parseNpmLock } from '../../src/prefetch/npm-lock.ts'
import { parseImageList, parsePlatforms } from '../../src/prefetch/oci-images.ts'
import { sameVersion } from '../../src/prefetch/pep440-version.ts'
import { parseRequirements } from '../../src/prefetch/pip-requirements.ts'
import { versionOf } from '../../src/prefetch/pypi-files.ts'

describe('prefetch inputs: npm lockfiles', () => {
  it('reads v3 packages: scoped, nested, aliased; skips links, workspaces, bundled, file: and git dependencies, naming each', () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0' },
        'node_modules/a': { version: '1.0.0', resolved: 'https://registry.example/a/-/a-1.0.0.tgz', integrity: 'sha512-x' },
        'node_modules/@s/b': { version: '2.1.0-rc.1', resolved: 'http://127.0.0.1:8484/npm/@s/b/-/b-2.1.0-rc.1.tgz' },
        'node_modules/a/node_modules/@s/b': { version: '2.1.0-rc.1', resolved: 'http://127.0.0.1:8484/npm/@s/b/-/b-2.1.0-rc.1.tgz' },
        'node_modules/alias': { name: 'real', version: '3.0.0', resolved: 'https://registry.example/real/-/real-3.0.0.tgz' },
        'node_modules/no-resolved': { version: '4.0.0' },
        'node_modules/a/node_modules/inner': { version: '1.0.0', inBundle: true },
        'node_modules/linked': { resolved: 'packages/linked', link: true },
        'packages/linked': { name: 'linked', version: '0.0.1' },
        'node_modules/local': { version: 'file:../local', resolved: 'file:../local' },
        'node_modules/from-git': { version: '1.0.0', resolved: 'git+ssh://git@github.example/o/r.git#abc' },
        'node_modules/remote': { version: '1.0.0', resolved: 'https://files.example/remote.tgz' },
        'node_modules/sneaky': { name: '../../-/ping', version: '1.0.0' }
      }
    }
    const { tarballs, skipped } = parseNpmLock(JSON.stringify(lock), 'package-lock.json')
    assert.deepEqual(tarballs.map((t) => t.path), [
      '/npm/a/-/a-1.0.0.tgz',
      '/npm/@s/b/-/b-2.1.0-rc.1.tgz',
      '/npm/real/-/real-3.0.0.tgz',
      '/npm/no-resolved/-/no-resolved-4.0.0.tgz'
    ])
    assert.deepEqual(skipped.map((s) => [s.what, s.reason.split(' (')[0]]), [
      ['node_modules/linked', 'a link to a folder'],
      ['packages/linked', 'a workspace folder'],
      ['node_modules/local', 'a local dependency'],
      ['node_modules/from-git', 'a git dependency'],
      ['node_modules/remote', 'not from a registry'],
      ['node_modules/sneaky', 'not a valid package name']
    ])
  })

  it('reads v1 dependencies, nested, with aliases, leaving bundled ones to their parent', () => {
    const lock = {
      lockfileVersion: 1,
      dependencies: {
        a: { version: '1.0.0', resolved: 'https://r.example/a/-/a-1.0.0.tgz', dependencies: { b: { version: '2.0.0' }, c: { version: '1.0.0', bundled: true } } },
        x: { version: 'npm:@s/y@5.0.0' },
        g: { version: 'github:o/r#abc' }
      }
    }
    const { tarballs, skipped } = parseNpmLock(JSON.stringify(lock), 'npm-shrinkwrap.json')
    assert.deepEqual(tarballs.map((t) => `${t.name}@${t.version}`), ['a@1.0.0', 'b@2.0.0', '@s/y@5.0.0'])
    assert.equal(skipped.length, 1)
    assert.match(skipped[0]!.reason, /not a registry version/)
  })

  it('rejects what is not a lockfile, naming the file', () => {
    for (const [text, problem] of [['{"lockfileVersion": 3, "packages": ', /package-lock\.json: not JSON/], ['[1]', /expected a JSON object/], ['{"lockfileVersion": 7}', /lockfileVersion 7/], ['{"lockfileVersion": 2}', /without a "packages" object/], ['{"lockfileVersion": 3, "packages": {"node_modules/a": 5}}', /packages\["node_modules\/a"\] is not an object/]] as const) {
      assert.throws(() => parseNpmLock(text, 'package-lock.json'), (err: Error) => err instanceof InputError && problem.test(err.message))
    }
  })
})

describe('prefetch inputs: requirements files', () => {
  it('keeps pins with their hashes, joins continued lines, ignores markers and index options, reports the rest', () => {
    const text = [
      '# pip-compile output',
      '--index-url https://pypi.example/simple/',
      'Neo_Util==1.0.0 ; python_version >= "3.8" \\',
      '    --hash=sha256:AAAA \\',
      '    --hash=sha256:bbbb',
      'neo.lib[extra]===2.0.0  # trailing comment',
      'loose>=1.0',
      'bare',
      'wild==1.*',
      'direct @ https://files.example/direct-1.0-py3-none-any.whl',
      './local/path',
      '-r other.txt',
      '-e git+https://git.example/x.git#egg=x',
      'neo-util==1.0.0 --hash sha256:cccc',
      ''
    ].join('\n')
    const { pins, skipped } = parseRequirements(text, 'requirements.txt')
    assert.deepEqual(pins.map((p) => [p.project, p.version, p.hashes]), [
      ['neo-util', '1.0.0', ['sha256:aaaa', 'sha256:bbbb', 'sha256:cccc']],
      ['neo-lib', '2.0.0', []]
    ])
    assert.deepEqual(skipped.map((s) => s.what.split(':')[0]), ['line 7', 'line 8', 'line 9', 'line 10', 'line 11', 'line 12', 'line 13'])
    assert.match(skipped[0]!.reason, /not pinned to one version \(>=1\.0\)/)
  })

  it('stops at a line that is no requirement, naming the file and line', () => {
    assert.throws(() => parseRequirements('ok==1\n!!!\n', 'requirements.txt'), /requirements\.txt: line 2: not a requirement/)
    assert.throws(() => parseRequirements('ok==1 --hash=md5:zz\n', 'requirements.txt'), /line 1: not a hash/)
    assert.throws(() => parseRequirements('ok=1\n', 'requirements.txt'), /line 1: not a version specifier/)
  })

  it('matches files to versions as PEP 440 compares them', () => {
    assert.equal(versionOf('neo_util-1.0.0-py3-none-any.whl', 'neo-util'), '1.0.0')
    assert.equal(versionOf('neo-util-1.0.0.tar.gz', 'neo-util'), '1.0.0')
    assert.equal(versionOf('other-1.0.0.tar.gz', 'neo-util'), undefined)
    assert.ok(sameVersion('1.0', '1.0.0') && sameVersion('1.0-RC1', '1.0rc1') && !sameVersion('1.0', '1.0.1') && !sameVersion('1.0', '1.0rc1'))
  })
})

describe('prefetch inputs: image lists and apt lists', () => {
  it('reads references as Docker does, dropping duplicates and comments', () => {
    const digest = `sha256:${'a'.repeat(64)}`
    const images = parseImageList(`# images\nalpine:3.20\nreg.test/team/app\nlocalhost:5000/x/y:1@${digest}\nalpine:3.20  # again\n`, 'ci.images')
    assert.deepEqual(images.map((i) => [i.registry, i.repository, i.reference]), [
      ['docker.io', 'library/alpine', '3.20'],
      ['reg.test', 'team/app', 'latest'],
      ['localhost:5000', 'x/y', digest]
    ])
    assert.throws(() => parseImageList('ok:1\nBad/Upper:1\n', 'ci.images'), /ci\.images: line 2: not a repository name/)
    assert.throws(() => parseImageList('x@sha256:123\n', 'ci.images'), /line 1: not a digest/)
    assert.deepEqual(parsePlatforms('linux/amd64,linux/arm/v7'), [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm', variant: 'v7' }])
    assert.equal(parsePlatforms('linux'), undefined)
  })

  it('reads apt package names and pins, and orders Debian versions as dpkg does', () => {
    assert.deepEqual(parseAptList('curl libssl3=3.0.11-1~deb12u2\n# tools\nca-certificates, xz-utils\n', 'base.apt'), [
      { name: 'curl' }, { name: 'libssl3', version: '3.0.11-1~deb12u2' }, { name: 'ca-certificates' }, { name: 'xz-utils' }
    ])
    assert.throws(() => parseAptList('curl\nBad_Name\n', 'base.apt'), /base\.apt: line 2: not a package name/)
    const sorted = ['1.0', '1.0~rc1', '1:0.1', '1.0-1', '1.10', '1.9', '1.0+dfsg-1'].sort(compareDebianVersions)
    assert.deepEqual(sorted, ['1.0~rc1', '1.0', '1.0-1', '1.0+dfsg-1', '1.9', '1.10', '1:0.1'])
  })

  it('tells the kind of a file by its name', () => {
    assert.deepEqual(['a/package-lock.json', 'npm-shrinkwrap.json', 'requirements-dev.txt', 'ci.requirements.txt', 'prod.images', 'images.txt', 'base.apt', 'apt-packages.txt', 'notes.txt'].map(detectKind),
      ['npm', 'npm', 'pypi', 'pypi', 'oci', 'oci', 'apt', 'apt', undefined])
  })
})
