import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { describe, it } from 'node:test'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../../src/swarm/noise-crypto.ts'

const frame = (): { key: Buffer, nonce: Buffer, ad: Buffer, plaintext: Buffer } => ({
  key: randomBytes(32),
  nonce: randomBytes(12),
  ad: randomBytes(randomInt(0, 40)),
  plaintext: randomBytes(randomInt(0, 65_520))
})
const bytes = (data: Uint8Array | Uint8ArrayList): Buffer => Buffer.from(data instanceof Uint8Array ? data : data.subarray())

describe('the ChaCha20-Poly1305 noise frames are sealed with', () => {
  it('seals exactly as an independent ChaCha20-Poly1305, whole buffers and lists alike', () => {
    for (let round = 0; round < 50; round++) {
      const { key, nonce, ad, plaintext } = frame()
      const expected = Buffer.from(chacha20poly1305(key, nonce, ad).encrypt(plaintext))
      assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key)), expected)
      const cut = randomInt(0, plaintext.length + 1)
      const list = new Uint8ArrayList(plaintext.subarray(0, cut), plaintext.subarray(cut))
      assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Encrypt(list, nonce, ad, key)), expected)
    }
  })

  it('opens a frame in place into the `dst` noise passes, and into a new buffer otherwise', () => {
    for (let round = 0; round < 50; round++) {
      const { key, nonce, ad, plaintext } = frame()
      const sealed = Buffer.from(chacha20poly1305(key, nonce, ad).encrypt(plaintext))
      const copy = Buffer.from(sealed)
      const inPlace = noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, key, sealed.subarray(0, plaintext.length))
      assert.deepEqual(bytes(inPlace), plaintext)
      assert.equal((inPlace as Uint8Array).buffer, sealed.buffer, 'opened into the buffer it arrived in')
      const fresh = noiseCrypto.chaCha20Poly1305Decrypt(new Uint8ArrayList(copy.subarray(0, 5), copy.subarray(5)), nonce, ad, key)
      assert.deepEqual(bytes(fresh), plaintext)
    }
  })

  it('refuses a frame whose bytes, tag, associated data or key were changed', () => {
    const { key, nonce, ad, plaintext } = { ...frame(), plaintext: randomBytes(1000) }
    const sealed = Buffer.from(chacha20poly1305(key, nonce, ad).encrypt(plaintext))
    const flipped = (at: number): Buffer => { const copy = Buffer.from(sealed); copy[at]! ^= 1; return copy }
    const cases: Array<[string, () => unknown]> = [
      ['a flipped byte', () => noiseCrypto.chaCha20Poly1305Decrypt(flipped(10), nonce, ad, key)],
      ['a flipped tag bit', () => noiseCrypto.chaCha20Poly1305Decrypt(flipped(sealed.length - 1), nonce, ad, key)],
      ['other associated data', () => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, randomBytes(8), key)],
      ['another key', () => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, randomBytes(32))],
      ['a frame shorter than its tag', () => noiseCrypto.chaCha20Poly1305Decrypt(sealed.subarray(0, 15), nonce, ad, key)]
    ]
    for (const [what, open] of cases) assert.throws(open, /Invalid chacha20poly1305 decryption/, what)
  })
})
