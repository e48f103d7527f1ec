import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pino from 'pino'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'
import { manifestReferences } from '../../formats/oci/manifest-references.ts'
import { createPinnedKeys } from '../../src/pull/pinned-keys.ts'
import type { FormatMount } from '../../src/pull/format-mount.ts'
import type { IndexRecord } from '../../src/index/index-record.ts'

const digest = (c: string): string => `sha256:${c.repeat(64)}`
const bytes = (json: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(json))

describe('what an image manifest names (OCI references)', () => {
  const index = bytes({ schemaVersion: 2, manifests: [{ digest: digest('a'), platform: { os: 'linux', architecture: 'amd64' } }, { digest: digest('b') }, { digest: 'sha256:short' }, { nothing: 1 }] })
  const image = bytes({ schemaVersion: 2, config: { digest: digest('c') }, layers: [{ digest: digest('d') }, { digest: digest('e') }, { digest: digest('d') }], subject: { digest: digest('f') } })

  it('an index names its manifests, an image manifest its config and layers, in the same repository, by digest', () => {
    assert.deepEqual(manifestReferences('oci:docker.io/library/alpine:3.20', index), [`oci:docker.io/library/alpine@${digest('a')}`, `oci:docker.io/library/alpine@${digest('b')}`])
    assert.deepEqual(manifestReferences(`oci:localhost:5000/team/app@${digest('a')}`, image), [digest('c'), digest('d'), digest('e')].map((d) => `oci:localhost:5000/team/app@${d}`))
    assert.deepEqual(manifestReferences('oci:localhost:5000/app:v1', image)[0], `oci:localhost:5000/app@${digest('c')}`)
  })

  it('names nothing for bytes that are not a manifest, and passes over descriptors without a valid digest', () => {
    for (const junk of ['', 'null', '[1,2]', '{"layers": "x"}', '{"config": null}', 'not json', '{"manifests": [{"digest": "../../etc"}]}']) {
      assert.deepEqual(manifestReferences('oci:docker.io/library/alpine:3', new TextEncoder().encode(junk)), [], junk)
    }
  })
})

describe('what pins keep', () => {
  // what the walk reads of a mount: which adapter a key belongs to, and what its documents name
  const mounts = [{ adapter: { name: 'oci', maxDocumentBytes: 4 << 20, references: manifestReferences }, upstream: '' }] as unknown as FormatMount[]
  const documents = new Map<string, Uint8Array>()
  const records = new Map<string, IndexRecord>()
  const store = async (key: string, kind: 'metadata' | 'artifact', body: Uint8Array): Promise<void> => {
    const cid = CID.createV1(raw.code, await sha256.digest(body))
    documents.set(cid.toString(), body)
    records.set(key, { key, kind, cid: cid.toString(), size: body.byteLength, digests: [], upstream: 'http://127.0.0.1:9/', fetchedAt: 0 } as unknown as IndexRecord)
  }
  let reads = 0
  const read = async (cid: CID): Promise<Uint8Array> => { reads++; return documents.get(cid.toString())! }

  it('keeps a tag, its index, each platform\'s manifest and their blobs, and says what it names that is not stored', async () => {
    const repo = 'oci:reg.test/team/app'
    await store(`${repo}:1.0`, 'metadata', bytes({ schemaVersion: 2, manifests: [{ digest: digest('1') }, { digest: digest('2') }] }))
    await store(`${repo}@${digest('1')}`, 'metadata', bytes({ schemaVersion: 2, config: { digest: digest('3') }, layers: [{ digest: digest('4') }] }))
    await store(`${repo}@${digest('3')}`, 'artifact', bytes('config'))
    await store(`${repo}@${digest('4')}`, 'artifact', bytes('layer'))
    await store('npm:tarball:x/-/x-1.0.0.tgz', 'artifact', bytes('tgz'))
    const pins = { list: () => [`${repo}:1.0`, 'npm:tarball:x/-/x-1.0.0.tgz'] }
    const keys = createPinnedKeys({ pins, mounts, read, log: pino({ level: 'silent' }) })
    const { kept, missing } = await keys.closure((key) => records.get(key))
    assert.deepEqual([...kept].sort(), [`${repo}:1.0`, `${repo}@${digest('1')}`, `${repo}@${digest('3')}`, `${repo}@${digest('4')}`, 'npm:tarball:x/-/x-1.0.0.tgz'].sort())
    assert.deepEqual([...missing], [`${repo}@${digest('2')}`], 'the other platform was never pulled')

    // a manifest by content is read once; a tag that moves is read again
    const before = reads
    await keys.closure((key) => records.get(key))
    assert.equal(reads, before)
    await store(`${repo}:1.0`, 'metadata', bytes({ schemaVersion: 2, manifests: [{ digest: digest('2') }] }))
    assert.deepEqual([...(await keys.closure((key) => records.get(key))).kept].sort(), [`${repo}:1.0`, 'npm:tarball:x/-/x-1.0.0.tgz'].sort(), 'the old image is no longer kept')
  })

  it('keeps only the pinned key of a document it cannot read, and follows no cycle', async () => {
    const repo = 'oci:reg.test/loop/app'
    await store(`${repo}:a`, 'metadata', bytes({ schemaVersion: 2, manifests: [{ digest: digest('9') }] }))
    await store(`${repo}@${digest('9')}`, 'metadata', bytes({ schemaVersion: 2, manifests: [{ digest: digest('9') }] }))
    await store(`${repo}:gone`, 'metadata', bytes({ schemaVersion: 2, manifests: [{ digest: digest('8') }] }))
    const failing = async (cid: CID): Promise<Uint8Array> => {
      if (cid.toString() === records.get(`${repo}:gone`)!.cid) throw new Error('blocks gone')
      return documents.get(cid.toString())!
    }
    const keys = createPinnedKeys({ pins: { list: () => [`${repo}:a`, `${repo}:gone`] }, mounts, read: failing, log: pino({ level: 'silent' }) })
    const { kept } = await keys.closure((key) => records.get(key))
    assert.deepEqual([...kept].sort(), [`${repo}:a`, `${repo}@${digest('9')}`, `${repo}:gone`].sort())
  })
})
