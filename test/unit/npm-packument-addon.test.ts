import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { loadPackumentAddon } from '../../formats/npm/native-packument.ts'
import { loadPackument, OFF_THREAD_BYTES, readPackument } from '../../formats/npm/npm-document.ts'
import { tarballFile } from '../../formats/npm/packument.ts'
import { concatPadded } from '../../src/store/padded-concat.ts'

const BASE = 'http://127.0.0.1:8484/npm/'

/**
 * What a client can tell of a packument read one way or the other: its name, its
 * abbreviated form (as parsed JSON: key order and escaping may differ), and what
 * each tarball file resolves to (the dist fields the node reads) — or the error
 * that refused the document.
 */
function outcome (bytes: Uint8Array, native: boolean, files: string[]): unknown {
  try {
    const doc = readPackument(bytes, { native })
    return { name: doc.name, abbreviated: JSON.parse(String(doc.abbreviated(BASE))), dists: files.map((f) => {
      const dist = doc.tarballDist(f)
      return dist === undefined ? null : { tarball: dist.tarball, integrity: dist.integrity, shasum: dist.shasum }
    }) }
  } catch (err) {
    return { refused: (err as Error).message }
  }
}

/** The native and the JS path agree on `bytes`; true when the addon, not the JS fallback, answered. */
function agree (bytes: Uint8Array, files: string[]): boolean {
  assert.deepStrictEqual(outcome(bytes, true, files), outcome(bytes, false, files))
  return loadPackumentAddon()!.abbreviate(bytes) !== undefined
}

/** Mostly `good`, sometimes something the schema refuses. */
const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>): fc.Arbitrary<T | U> => fc.oneof({ arbitrary: good, weight: 19 }, { arbitrary: bad, weight: 1 })

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('', '"', '\\', '\n\t\u0000\u001f', '\u2028\u2029', '<script>', '😀', 'é'))
const versionId = fc.oneof(
  { arbitrary: fc.constantFrom('1.0.0', '1.0.1', '2.0.0-beta.1', '3.1.4+build.5', '1', '01', '10', 'latest', 'toString'), weight: 6 },
  { arbitrary: fc.constantFrom('constructor', '__proto__', 'prototype'), weight: 1 }, // keys valibot drops
  { arbitrary: text, weight: 2 })
const tarball = (name: string, id: string): fc.Arbitrary<string> => fc.oneof(
  { arbitrary: fc.constant(`https://r.example/${name}/-/${name.slice(name.lastIndexOf('/') + 1)}-${id}.tgz`), weight: 4 },
  fc.constantFrom('https://r.example/a/-/a-1.0.0%2Bbuild.tgz', 'https://r.example/a/-/a b.tgz', 'https://r.example/a/-/é.tgz', 'https://r.example/a/-/x.tgz?sig=1#f',
    'https://r.example/a/-/a-%E0%A4%A.tgz', 'no-slash.tgz', 'https://r.example/a/-/', "https://r.example/a/-/(a)!*'~.tgz", 'https://r.example/a/-/a"b\\c.tgz'),
  text
)
const version = (name: string, id: string): fc.Arbitrary<Record<string, unknown>> => fc.record({
  name: mostly(fc.constant(name), fc.constant(7)),
  version: mostly(fc.constant(id), fc.constant(null)),
  dist: fc.record({
    tarball: tarball(name, id),
    integrity: fc.constantFrom('sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==', 'sha1-qUQkvTnrWmhlIzEvVGmmyD2IfpI=', ''),
    shasum: mostly(fc.oneof(fc.constant('a94424bd39eb5a686523312f54699bc83d887e92'), text), fc.constant(12)),
    unpackedSize: fc.integer(),
    signatures: fc.jsonValue({ maxDepth: 2 })
  }, { requiredKeys: ['tarball'] }),
  dependencies: fc.dictionary(text, text, { maxKeys: 4 }),
  bin: fc.oneof(text, fc.dictionary(text, text, { maxKeys: 2 })),
  engines: fc.jsonValue({ maxDepth: 2 }),
  scripts: fc.oneof(fc.constant(null), text, fc.dictionary(fc.constantFrom('preinstall', 'install', 'postinstall', 'test', 'build'), fc.oneof(text, fc.constant(null)), { maxKeys: 3 })),
  hasInstallScript: fc.oneof(fc.boolean(), fc.constant(null)),
  deprecated: text,
  funding: fc.jsonValue({ maxDepth: 2 }),
  readme: text,
  gitHead: text,
  size: fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 1e21, 5e-324, 9007199254740993, 1.5))
}, { requiredKeys: ['version', 'dist'] })

const packument = fc.oneof({ arbitrary: fc.constantFrom('left-pad', '@scope/pkg', 'a"b'), weight: 3 }, text).chain((name) =>
  fc.uniqueArray(versionId, { maxLength: 6 }).chain((ids) => fc.record({
    name: fc.constant(name),
    'dist-tags': mostly(fc.dictionary(fc.oneof(fc.constant('latest'), text), mostly(fc.constantFrom(...ids, '1.0.0'), fc.constant(3)), { maxKeys: 3 }), fc.constant(null)),
    versions: fc.tuple(...ids.map((id) => version(name, id))).map((vs) => Object.fromEntries(ids.map((id, i) => [id, vs[i]]))),
    time: mostly(fc.record({ modified: fc.oneof(text, fc.constant(null)), created: text }, { requiredKeys: [] }), fc.constant('2020')),
    modified: text,
    readme: text,
    users: fc.dictionary(text, fc.boolean(), { maxKeys: 3 })
  }, { requiredKeys: ['name'] })))

/** Each version's tarball file, and names no version has. */
const filesOf = (doc: { versions?: Record<string, unknown> }): string[] => [
  ...Object.values(doc.versions ?? {}).flatMap((v) => {
    const link = (v as { dist?: { tarball?: unknown } } | undefined)?.dist?.tarball
    return typeof link === 'string' ? [tarballFile(link) ?? ''] : []
  }),
  'left-pad-9.9.9.tgz', 'constructor', 'pkg-constructor.tgz'
]

const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

describe('npm packuments abbreviated by the addon (native/packument.cc)', () => {
  before(() => {
    assert.ok(loadPackumentAddon() !== undefined, 'native/build.sh built native/build/packument.node at install (it needs a C++ compiler, Node\'s headers and @nozbe/simdjson)')
  })

  it('answers as the JS path does for any document, well-formed or not, and answers most well-formed ones itself', () => {
    let native = 0
    let runs = 0
    fc.assert(fc.property(packument, (doc) => {
      runs++
      if (agree(encode(doc), filesOf(doc))) native++
    }), { numRuns: 400 })
    // the generated documents are mostly ones the JS schema takes; the addon must take those, not pass them all on
    assert.ok(native > runs / 4, `the addon answered ${native} of ${runs}`)
  })

  it('takes a plain packument itself, with the base URL escaped into each link', () => {
    const doc = { name: 'left-pad', 'dist-tags': { latest: '1.0.0' }, time: { modified: '2020-01-01T00:00:00.000Z' }, versions: { '1.0.0': { name: 'left-pad', version: '1.0.0', scripts: { postinstall: 'x' }, dist: { tarball: 'https://r.example/left-pad/-/left-pad-1.0.0.tgz', shasum: 'a94424bd39eb5a686523312f54699bc83d887e92' } } } }
    const bytes = encode(doc)
    assert.equal(agree(bytes, filesOf(doc)), true)
    const abbreviated = JSON.parse(String(readPackument(bytes).abbreviated('http://h/"q"/npm/')))
    assert.deepEqual(abbreviated, {
      name: 'left-pad',
      'dist-tags': { latest: '1.0.0' },
      modified: '2020-01-01T00:00:00.000Z',
      versions: { '1.0.0': { name: 'left-pad', version: '1.0.0', hasInstallScript: true, dist: { tarball: 'http://h/"q"/npm/left-pad/-/left-pad-1.0.0.tgz', shasum: 'a94424bd39eb5a686523312f54699bc83d887e92' } } }
    })
  })

  it('leaves to the JS path what it would read differently, and both then agree', () => {
    const v = '{"version":"1.0.0","dist":{"tarball":"https://r.example/a/-/a-1.0.0.tgz"}}'
    const cases: Record<string, string | Buffer> = {
      'a repeated top-level key': `{"name":"a","versions":{},"name":"b"}`,
      'a repeated version': `{"name":"a","versions":{"1.0.0":${v},"1.0.0":{"version":"1.0.0","dist":{"tarball":"https://r.example/a/-/b.tgz"}}}}`,
      'a version valibot drops': `{"name":"a","versions":{"constructor":${v}}}`,
      'a dist-tag valibot drops': `{"name":"a","dist-tags":{"__proto__":"1.0.0"},"versions":{}}`,
      'a tarball name to decode': `{"name":"a","versions":{"1.0.0":{"version":"1.0.0","dist":{"tarball":"https://r.example/a/-/a-1.0.0%2Bb.tgz"}}}}`,
      'invalid UTF-8': Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xff]), Buffer.from('","versions":{}}')]),
      'a lone surrogate': '{"name":"a\\ud800","versions":{}}',
      'versions as an array (valibot reads it as a record)': '{"name":"a","versions":[]}'
    }
    for (const [what, body] of Object.entries(cases)) {
      const bytes = Buffer.from(body)
      assert.equal(loadPackumentAddon()!.abbreviate(bytes), undefined, what)
      agree(bytes, ['a-1.0.0.tgz', 'b.tgz', 'a-1.0.0+b.tgz'])
    }
  })

  it('keeps the last of repeated keys inside a version, as JSON.parse does', () => {
    const bytes = Buffer.from('{"name":"a","versions":{"1.0.0":{"version":"0","version":"1.0.0","deprecated":"x","deprecated":"y","dist":{"tarball":"https://r.example/a/-/old.tgz","tarball":"https://r.example/a/-/a-1.0.0.tgz","shasum":"1","shasum":"a94424bd39eb5a686523312f54699bc83d887e92"}}}}')
    assert.equal(agree(bytes, ['a-1.0.0.tgz', 'old.tgz']), true)
  })

  it('refuses what the JS path refuses, with its message', () => {
    for (const body of ['', 'null', '[]', '"a"', '{}', '{"name":1}', '{"name":"a","versions":{"1":{"version":"1"}}}',
      '{"name":"a","versions":{"1":{"version":"1","dist":{"tarball":7}}}}', '{"name":"a","dist-tags":{"latest":1}}', '{"name":"a","time":"x"}', '{"name":"a","modified":1}',
      '{"name":"a",', '{"name":"a"} x', '{"name":"a","readme":tru}', '{"name":"a","versions":{"1":{"version":"1","dist":{"tarball":"t","integrity":null}}}}']) {
      const result = outcome(Buffer.from(body), true, [])
      assert.ok(typeof result === 'object' && result !== null && 'refused' in result, body)
      assert.deepStrictEqual(result, outcome(Buffer.from(body), false, []), body)
    }
  })

  it('reads bytes the same with and without spare room after them, and a document too large to reuse its parser for', () => {
    const doc = { name: 'left-pad', versions: { '1.0.0': { version: '1.0.0', dist: { tarball: 'https://r.example/left-pad/-/left-pad-1.0.0.tgz' } } } }
    const json = JSON.stringify(doc)
    const exact = new Uint8Array(new TextEncoder().encode(json).buffer.slice(0)) // nothing readable past the end: the addon copies
    assert.equal(exact.buffer.byteLength, exact.byteLength)
    const padded = concatPadded([Buffer.from(json)], json.length) // parsed where it lies
    assert.equal(agree(exact, filesOf(doc)), true)
    assert.equal(agree(padded, filesOf(doc)), true)
    assert.deepStrictEqual(loadPackumentAddon()!.abbreviate(exact), loadPackumentAddon()!.abbreviate(padded))

    const large = { ...doc, readme: 'x'.repeat(17 * 1024 * 1024) } // above the 16 MiB a reused parser takes
    assert.equal(agree(encode(large), filesOf(large)), true)
  })

  it('refuses a non-byte argument with a TypeError', () => {
    for (const call of [loadPackumentAddon()!.abbreviate, loadPackumentAddon()!.abbreviateOffThread]) {
      assert.throws(() => call('{}' as unknown as Uint8Array), TypeError)
      assert.throws(() => call(new Uint16Array(2) as unknown as Uint8Array), TypeError)
    }
  })
})

describe('npm packuments abbreviated off the event loop', () => {
  const addon = (): NonNullable<ReturnType<typeof loadPackumentAddon>> => loadPackumentAddon()!

  it('answers on the thread pool what it answers on the event loop, many at once (one shares the kept parser, the others bring their own)', async () => {
    const docs = [
      ...fc.sample(packument, { numRuns: 200, seed: 11 }).map(encode),
      Buffer.from('{"name":"a",'), Buffer.from('{"name":"a","versions":{},"name":"b"}'), Buffer.from('[]'),
      largePackument(800), // several MB
      encode({ name: 'big', versions: {}, readme: 'x'.repeat(17 * 1024 * 1024) }) // too large to share the kept parser
    ]
    const offThread = await Promise.all(docs.map(async (bytes) => await addon().abbreviateOffThread(bytes)))
    docs.forEach((bytes, i) => { assert.deepStrictEqual(offThread[i], addon().abbreviate(bytes), String(bytes.subarray(0, 80))) })
    assert.ok(offThread.filter((answer) => answer !== undefined).length > docs.length / 4, 'most generated documents are taken by the addon')
  })

  it('lets the event loop run while a large document is read', async () => {
    const bytes = largePackument(3000)
    let turns = 0
    let reading = true
    const turn = (): void => { if (reading) { turns++; setImmediate(turn) } }
    setImmediate(turn)
    const answer = await addon().abbreviateOffThread(bytes)
    reading = false
    assert.notEqual(answer, undefined)
    assert.ok(turns > 0, 'the event loop turned while the document was read')
    assert.deepStrictEqual(answer, addon().abbreviate(bytes))
  })

  it('reads a packument of OFF_THREAD_BYTES or more as readPackument does, and refuses a malformed one with its message', async () => {
    const bytes = largePackument(400)
    assert.ok(bytes.byteLength >= OFF_THREAD_BYTES)
    const files = ['big-1.0.7.tgz', 'big-1.0.399.tgz', 'big-9.9.9.tgz']
    const [offLoop, onLoop] = [await loadPackument(bytes), readPackument(bytes)]
    assert.equal(offLoop.name, onLoop.name)
    assert.deepStrictEqual(JSON.parse(String(offLoop.abbreviated(BASE))), JSON.parse(String(onLoop.abbreviated(BASE))))
    assert.deepStrictEqual(files.map((f) => offLoop.tarballDist(f)), files.map((f) => onLoop.tarballDist(f)))
    assert.notEqual(offLoop.tarballDist('big-1.0.7.tgz'), undefined)

    const malformed = encode({ name: 'big', versions: { '1.0.0': { version: '1.0.0' } }, readme: 'x'.repeat(OFF_THREAD_BYTES) })
    const message = (() => { try { readPackument(malformed) } catch (err) { return (err as Error).message } })()
    assert.ok(message !== undefined, 'readPackument refuses a version without a dist')
    await assert.rejects(loadPackument(malformed), { message })
  })
})

/** A well-formed packument of `count` versions, ~4 KB each. */
function largePackument (count: number): Buffer {
  const versions: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) {
    const id = `1.0.${i}`
    versions[id] = { name: 'big', version: id, description: 'd'.repeat(3000), dependencies: { 'left-pad': '^1.0.0' }, dist: { tarball: `https://r.example/big/-/big-${id}.tgz`, shasum: 'a94424bd39eb5a686523312f54699bc83d887e92' } }
  }
  return encode({ name: 'big', 'dist-tags': { latest: `1.0.${count - 1}` }, versions })
}
