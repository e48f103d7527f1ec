import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { describe, it } from 'node:test'
import { xz } from '@napi-rs/lzma'
import { readListing } from '../../formats/apt/listing.ts'
import { parseRelease } from '../../formats/apt/release-file.ts'
import { PLUGIN_API } from '../../src/plugins/load-plugins.ts'

const HEX = (c: string): string => c.repeat(64)

const PACKAGES = `Package: hello
Version: 2.10-3
Filename: pool/main/h/hello/hello_2.10-3_amd64.deb
Size: 56132
SHA256: ${HEX('a')}
Description: example package based on GNU hello
 The GNU hello program produces a familiar, friendly greeting.
 Filename: pool/not/a/field.deb

Package: evil
Filename: pool/../../etc/passwd
Size: 1
SHA256: ${HEX('b')}

Package: no-digest
Filename: pool/main/n/no-digest/no-digest_1_all.deb
Size: 10

Package: libstdc++6\r
Filename: pool/main/g/gcc-12/libstdc++6_12.2.0-14_amd64.deb\r
Size: 613140\r
SHA256: ${HEX('c')}\r
`

const SOURCES = `Package: hello
Directory: pool/main/h/hello
Checksums-Sha256:
 ${HEX('d')} 1183 hello_2.10-3.dsc
 ${HEX('e')} 725946 hello_2.10.orig.tar.gz
 ${HEX('f')} 12688 ../escape.tar.xz
Files:
 0123 1183 hello_2.10-3.dsc
`

async function entries (listing: string, bytes: Uint8Array): Promise<Array<{ key: string, url: string, sha256: string, size?: number }>> {
  const found = []
  for await (const { key, location } of readListing(listing, (async function * () { yield bytes })(), 'apt:t:', PLUGIN_API)) found.push({ key, url: location.url, sha256: location.digests[0]!.hex, size: location.size })
  return found
}

describe('apt Packages and Sources listings', () => {
  const expected = [
    { key: 'apt:t:pool/main/h/hello/hello_2.10-3_amd64.deb', url: 'pool/main/h/hello/hello_2.10-3_amd64.deb', sha256: HEX('a'), size: 56132 },
    // a `+` goes upstream encoded, as the path segment it is
    { key: 'apt:t:pool/main/g/gcc-12/libstdc++6_12.2.0-14_amd64.deb', url: 'pool/main/g/gcc-12/libstdc%2B%2B6_12.2.0-14_amd64.deb', sha256: HEX('c'), size: 613140 }
  ]

  for (const [name, bytes] of [['Packages', Buffer.from(PACKAGES)], ['Packages.gz', gzipSync(PACKAGES)], ['Packages.xz', xz.compressSync(PACKAGES)]] as const) {
    it(`reads ${name}: each pool file with its SHA256 and size; a path out of the repository or an entry without a digest is skipped`, async () => {
      assert.deepEqual(await entries(`main/binary-amd64/${name}`, bytes), expected)
    })
  }

  it('reads Sources: every file of Checksums-Sha256 in its Directory', async () => {
    assert.deepEqual(await entries('main/source/Sources', Buffer.from(SOURCES)), [
      { key: 'apt:t:pool/main/h/hello/hello_2.10-3.dsc', url: 'pool/main/h/hello/hello_2.10-3.dsc', sha256: HEX('d'), size: 1183 },
      { key: 'apt:t:pool/main/h/hello/hello_2.10.orig.tar.gz', url: 'pool/main/h/hello/hello_2.10.orig.tar.gz', sha256: HEX('e'), size: 725946 }
    ])
  })

  it('refuses an xz index that does not decompress, as the upstream\'s error', async () => {
    await assert.rejects(entries('main/binary-amd64/Packages.xz', Buffer.from('not xz')), { name: 'UpstreamError' })
  })
})

describe('apt Release files', () => {
  const body = `Origin: Debian
Suite: stable
MD5Sum:
 00112233445566778899aabbccddeeff 100 main/binary-amd64/Packages
SHA256:
 ${HEX('1')} 100 main/binary-amd64/Packages
 ${HEX('2')}  8790396 main/binary-amd64/Packages.xz
 not-a-digest 5 main/i18n/Index
`

  it('lists SHA256 entries by path from a Release file', () => {
    const release = parseRelease(Buffer.from(body))
    assert.deepEqual([...release.entries.values()], [
      { path: 'main/binary-amd64/Packages', size: 100, sha256: HEX('1') },
      { path: 'main/binary-amd64/Packages.xz', size: 8790396, sha256: HEX('2') }
    ])
  })

  it('reads the signed text of a clear-signed InRelease, dash-escaped lines unescaped, and keeps its bytes', () => {
    const signed = `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n${body.replace('Origin: Debian', '- -Origin: Debian')}-----BEGIN PGP SIGNATURE-----\n\n iQ\n${' ' + HEX('9')} 1 main/forged/Packages\n-----END PGP SIGNATURE-----\n`
    const release = parseRelease(Buffer.from(signed))
    assert.equal(release.entries.size, 2)
    assert.ok(!release.entries.has('main/forged/Packages'), 'nothing from the signature block')
    assert.equal(Buffer.from(release.bytes).toString(), signed)
  })
})
