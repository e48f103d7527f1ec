import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileGlob, GlobError } from '../../src/catalog/glob.ts'

const KEY = 'npm:tarball:lodash/-/lodash-4.17.21.tgz'

describe('search globs', () => {
  it('match whole texts case-insensitively with * ? [] {} and escapes', () => {
    const yes: Array<[string, string]> = [
      ['*', KEY], ['npm:*', KEY], ['*lodash*', KEY], ['*.TGZ', KEY], ['npm:tarball:lodash/-/lodash-4.17.2?.tgz', KEY],
      ['*-[0-9].*', KEY], ['*-[!a-z].17.*', KEY], ['*-[^a-z].17.*', KEY], ['{npm,pypi}:*', KEY], ['*{.whl,.tgz}', KEY],
      ['*{a,{b,.t}}gz', KEY], ['a\\*b', 'a*b'], ['[]]', ']'], ['[A-Z]', 'q'], ['', '']
    ]
    for (const [glob, text] of yes) assert.ok(compileGlob(glob).matches(text), `${glob} ~ ${text}`)
    const no: Array<[string, string]> = [['lodash*', KEY], ['npm', KEY], ['*.whl', KEY], ['a\\*b', 'axb'], ['?', ''], ['[!a]', 'A'], ['{x,y}', 'z']]
    for (const [glob, text] of no) assert.ok(!compileGlob(glob).matches(text), `${glob} !~ ${text}`)
  })

  it('match a tail that begins after a boundary', () => {
    const tail = (glob: string): boolean => compileGlob(glob).matchesTail(KEY, ':/')
    assert.ok(tail('lodash*'))
    assert.ok(tail('tarball:*'))
    assert.ok(tail('lodash-4.17.21.tgz'))
    assert.ok(tail('LODASH-*'))
    assert.ok(!tail('odash*'), 'a tail begins at a boundary, not mid-word')
    assert.ok(!tail('lodash'), 'without a star, a tail matches whole')
    assert.ok(compileGlob('lodash').matchesTail('npm:packument:lodash', ':/'))
  })

  it('refuse what cannot be read, saying where', () => {
    for (const [glob, message] of [['[abc', /unclosed "\[" at position 1/], ['x{a,b', /unclosed "\{" at position 2/], ['a}', /unmatched "\}"/], ['[z-a]', /backwards/], ['a\\', /lone/], ['[!]', /unclosed/], ['{a,b}'.repeat(7), /more than 64/]] as const) {
      assert.throws(() => compileGlob(glob), (err: Error) => err instanceof GlobError && message.test(err.message), glob)
    }
  })

  it('take time linear in the text for a pattern that makes regexes backtrack', () => {
    const glob = compileGlob(`${'*a'.repeat(30)}*b`)
    const started = performance.now()
    for (let i = 0; i < 200; i++) assert.ok(!glob.matchesTail('a'.repeat(300), ':/'))
    assert.ok(performance.now() - started < 2_000, `${Math.round(performance.now() - started)} ms`)
  })
})
