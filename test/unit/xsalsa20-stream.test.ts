import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { describe, it } from 'node:test'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import XSalsa20 from '../../overrides/xsalsa20/index.js'

describe('the xsalsa20 stream the swarm key protector uses', () => {
  it('XORs chunks of any size exactly as one pass of xsalsa20 over the whole stream', () => {
    for (let round = 0; round < 20; round++) {
      const key = randomBytes(32)
      const nonce = randomBytes(24)
      const data = randomBytes(randomInt(1, 300_000))
      const stream = XSalsa20(nonce, key)
      const chunks: Uint8Array[] = []
      for (let at = 0; at < data.length;) {
        const size = Math.min(data.length - at, [1, 7, 63, 64, 65, 1000, 65536][randomInt(7)]!)
        chunks.push(stream.update(data.subarray(at, at + size)))
        at += size
      }
      assert.deepEqual(Buffer.concat(chunks), Buffer.from(xsalsa20(key, nonce, data)))
    }
  })

  it('keeps many interleaved ciphers independent, with memory that does not grow', () => {
    const ciphers = Array.from({ length: 16 }, () => ({ key: randomBytes(32), nonce: randomBytes(24) }))
    const streams = ciphers.map((c) => XSalsa20(c.nonce, c.key))
    const sent = ciphers.map(() => [] as Buffer[])
    const before = process.memoryUsage().rss
    for (let i = 0; i < 4000; i++) {
      const which = i % streams.length
      const chunk = randomBytes(16 * 1024)
      sent[which]!.push(chunk)
      streams[which]!.update(chunk)
    }
    assert.ok(process.memoryUsage().rss - before < 256 * 1024 * 1024)
    const check = XSalsa20(ciphers[3]!.nonce, ciphers[3]!.key)
    const data = Buffer.concat(sent[3]!)
    assert.deepEqual(Buffer.from(check.update(data)), Buffer.from(xsalsa20(ciphers[3]!.key, ciphers[3]!.nonce, data)))
  })
})
