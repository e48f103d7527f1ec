import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { closestNames } from '../../src/catalog/closest-names.ts'
import type { PackageRow } from '../../src/catalog/catalog-db.ts'
import { searchPackages } from '../../src/catalog/search-packages.ts'
import { compareVersions } from '../../src/catalog/version-order.ts'

const row = (repository: string, format: PackageRow['format'], name: string, version: string | null, description: string | null = null): PackageRow => ({ repository, format, name, version, description })

describe('the catalog\'s search', () => {
  it('orders versions as their format does', () => {
    const sorted = (format: string, versions: string[]): string[] => [...versions].sort((a, b) => compareVersions(format, a, b))
    assert.deepEqual(sorted('dds', ['0.10.0', '0.2.1', '1.0.0', '1.0.0-beta.2', '1.0.0-beta.10', '0.3.0']), ['0.2.1', '0.3.0', '0.10.0', '1.0.0-beta.2', '1.0.0-beta.10', '1.0.0'])
    assert.deepEqual(sorted('apt', ['1.0-1', '1:0.1-1', '1.0~rc1-1', '1.0-10', '1.0-2']), ['1.0~rc1-1', '1.0-1', '1.0-2', '1.0-10', '1:0.1-1'])
  })

  it('groups rows by name across repositories, matches whole names case-insensitively, sorts by name', () => {
    const answer = searchPackages([
      row('b-repo', 'dds', 'Neo-Buffer', '0.10.0'), row('a-repo', 'dds', 'Neo-Buffer', '0.2.0', 'buffers'), row('a-repo', 'dds', 'neo-aa', '1.0.0'),
      row('pypi', 'pypi', 'neo-py', null), row('a-repo', 'dds', 'other', '1.0.0'), row('a-repo', 'dds', 'xneo-1', '1.0.0')
    ], 'NEO-*', { limit: 10 })
    assert.deepEqual(answer.packages, [
      { name: 'neo-aa', versions: ['1.0.0'], from: ['a-repo'] },
      { name: 'Neo-Buffer', versions: ['0.2.0', '0.10.0'], from: ['a-repo', 'b-repo'], description: 'buffers' },
      { name: 'neo-py', versions: [], from: ['pypi'], versionsNote: 'not in the listing: a PEP 503 index names each project\'s versions on the project\'s own page' }
    ])
    assert.deepEqual(answer.suggestions, [])
    const limited = searchPackages([row('r', 'dds', 'a', '1'), row('r', 'dds', 'b', '1')], '*', { limit: 1 })
    assert.deepEqual([limited.packages.map((p) => p.name), limited.truncated], [['a'], true])
  })

  it('suggests the closest names when nothing matches', () => {
    const names = ['neo-buffer', 'neo-fun', 'neo-concepts', 'boost.leaf', 'abseil']
    assert.deepEqual(closestNames('neo-bufer', names), ['neo-buffer'])
    assert.deepEqual(closestNames('*buffer*', names), ['neo-buffer'], 'a name holding the text')
    assert.deepEqual(closestNames('neo-fan*', names), ['neo-fun'])
    assert.deepEqual(closestNames('zzzzzz', names), [])
    assert.deepEqual(closestNames('*', names), [], 'nothing spelt out, nothing suggested')
    assert.deepEqual(searchPackages([row('r', 'dds', 'neo-fun', '1')], 'neo-fum', { limit: 5 }).suggestions, ['neo-fun'])
  })
})
