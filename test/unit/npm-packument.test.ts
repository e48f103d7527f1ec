import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UpstreamError } from '../../src/errors.ts'
import { parsePackument, tarballFile, versionWithTarball, type Packument } from '../../formats/npm/packument.ts'

const version = (id: string, tarball: string): Packument['versions'][string] => ({ version: id, dist: { tarball } })

describe('npm packument helpers', () => {
  it('cuts the file name from a tarball URL, decoded, without its query or fragment', () => {
    assert.equal(tarballFile('https://r.example/lodash/-/lodash-4.17.21.tgz'), 'lodash-4.17.21.tgz')
    assert.equal(tarballFile('https://r.example/@types%2fnode/-/node-20.1.0.tgz?x=1#y'), 'node-20.1.0.tgz')
    assert.equal(tarballFile('https://r.example/a/-/a-1.0.0%2Bbuild.tgz'), 'a-1.0.0+build.tgz')
    assert.equal(tarballFile('https://r.example/a/-/a-%E0%A4%A.tgz'), undefined)
  })

  it('finds the version a tarball belongs to by name, and by its link when the name does not say', () => {
    const doc: Packument = {
      name: '@scope/pkg',
      'dist-tags': {},
      versions: {
        '1.0.0': version('1.0.0', 'https://r.example/@scope/pkg/-/pkg-1.0.0.tgz'),
        // a link that does not follow `<name>-<version>.tgz`, and a version whose name-shaped file is another's
        '2.0.0': version('2.0.0', 'https://r.example/@scope/pkg/-/renamed-2.tgz'),
        '3.0.0': version('3.0.0', 'https://r.example/@scope/pkg/-/pkg-1.0.0-old.tgz')
      }
    }
    assert.equal(versionWithTarball(doc, 'pkg-1.0.0.tgz')?.version, '1.0.0')
    assert.equal(versionWithTarball(doc, 'renamed-2.tgz')?.version, '2.0.0')
    assert.equal(versionWithTarball(doc, 'pkg-1.0.0-old.tgz')?.version, '3.0.0')
    assert.equal(versionWithTarball(doc, 'pkg-2.0.0.tgz'), undefined)
    assert.equal(versionWithTarball(doc, 'pkg-constructor.tgz'), undefined)
    assert.equal(versionWithTarball(doc, 'pkg-__proto__.tgz'), undefined)
  })

  it('keeps every field of a packument it parses, as the upstream sent it', () => {
    const sent = {
      name: 'pkg',
      'dist-tags': { latest: '1.0.0' },
      readme: '# pkg',
      time: { modified: '2026-01-01T00:00:00.000Z', '1.0.0': '2026-01-01T00:00:00.000Z' },
      versions: { '1.0.0': { name: 'pkg', version: '1.0.0', scripts: { test: 'x' }, dist: { tarball: 'https://r.example/pkg/-/pkg-1.0.0.tgz', integrity: 'sha512-x', fileCount: 3 } } }
    }
    assert.deepEqual(parsePackument(Buffer.from(JSON.stringify(sent))), sent)
    // fields a version may lack are filled in as npm reads them
    assert.deepEqual(parsePackument(Buffer.from('{"name":"bare"}')), { name: 'bare', 'dist-tags': {}, versions: {} })
  })

  it('refuses a document that is not JSON, or whose versions the node could not use, with an upstream error', () => {
    const malformed: Record<string, string> = {
      'not JSON': '{"name":',
      'no name': '{"versions":{}}',
      'a version without dist': '{"name":"p","versions":{"1.0.0":{"version":"1.0.0"}}}',
      'a tarball that is a number': '{"name":"p","versions":{"1.0.0":{"version":"1.0.0","dist":{"tarball":1}}}}',
      'an integrity that is not a string': '{"name":"p","versions":{"1.0.0":{"version":"1.0.0","dist":{"tarball":"t","integrity":[]}}}}',
      'a version that is an array': '{"name":"p","versions":{"1.0.0":[]}}',
      'a dist-tag that is not a string': '{"name":"p","dist-tags":{"latest":1}}',
      'time that is a string': '{"name":"p","time":"now"}'
    }
    for (const [what, body] of Object.entries(malformed)) {
      assert.throws(() => parsePackument(Buffer.from(body)), (err) => err instanceof UpstreamError && /upstream packument is (not valid JSON|malformed)/.test(err.message), what)
    }
  })
})
