import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { defaultNpmRegistry } from '../../../src/config/default-npm-registry.ts'
import { loadPackumentAddon } from '../../../formats/npm/native-packument.ts'
import { readPackument } from '../../../formats/npm/npm-document.ts'
import { tarballFile, type Packument } from '../../../formats/npm/packument.ts'

/** Large, old, scoped, and with install scripts: packuments as the registry really writes them. */
const PACKAGES = ['typescript', 'react', '@types/node', 'esbuild', 'lodash', 'node-gyp', 'npm']
const BASE = 'http://127.0.0.1:8484/npm/'

/** The machine's real npm registry (whatever `npm config get registry` says). */
describe('the packument addon on real packuments', () => {
  let registry: string

  before(async () => {
    const found = await defaultNpmRegistry()
    assert.ok(found !== undefined, 'npm config get registry names a registry')
    registry = found
  })

  for (const name of PACKAGES) {
    it(`reads ${name} itself, as the JS path reads it`, async () => {
      const response = await fetch(`${registry}${name.replace('/', '%2f')}`, { headers: { accept: 'application/json' } })
      assert.equal(response.status, 200)
      const bytes = Buffer.from(await response.arrayBuffer())
      assert.ok(loadPackumentAddon()?.abbreviate(bytes) !== undefined, 'the addon took the document (built at install, and nothing in it sent it to JS)')

      const native = readPackument(bytes)
      const js = readPackument(bytes, { native: false })
      assert.equal(native.name, name)
      assert.deepStrictEqual(JSON.parse(String(native.abbreviated(BASE))), JSON.parse(String(js.abbreviated(BASE))))
      const versions = Object.values((JSON.parse(bytes.toString()) as Packument).versions)
      for (const file of versions.map((v) => tarballFile(v.dist.tarball)!)) {
        const [a, b] = [native.tarballDist(file), js.tarballDist(file)]
        assert.deepStrictEqual({ tarball: a?.tarball, integrity: a?.integrity, shasum: a?.shasum }, { tarball: b?.tarball, integrity: b?.integrity, shasum: b?.shasum }, file)
      }
    })
  }
})
