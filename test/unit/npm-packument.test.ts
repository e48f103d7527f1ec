import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { tarballFile, versionWithTarball, type Packument } from '../../formats/npm/packument.ts'

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
})
