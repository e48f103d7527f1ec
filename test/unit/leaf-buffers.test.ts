import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LeafBuffers, PAGE_SKEW } from '../../src/store/leaf-buffers.ts'

describe('lent leaf buffers', () => {
  it('takes a returned buffer again, also when a view of it comes back', () => {
    const buffers = new LeafBuffers(1024, 4)
    const first = buffers.take()!
    buffers.release(first.subarray(10, 20))
    assert.equal(buffers.take(), first)
  })

  it('never hands one buffer to two takers: a second release of it is ignored', () => {
    const buffers = new LeafBuffers(1024, 4)
    const lent = buffers.take()!
    buffers.release(lent)
    buffers.release(lent)
    const a = buffers.take()
    const b = buffers.take()
    assert.notEqual(a, b)
  })

  it('ignores a chunk it never lent, even one of the same size', () => {
    const buffers = new LeafBuffers(1024, 4)
    const foreign = Buffer.allocUnsafeSlow(1024)
    buffers.release(foreign)
    assert.notEqual(buffers.take(), foreign)
  })

  it('lends none for a leaf too big for a buffer, or too small to be worth one', () => {
    const buffers = new LeafBuffers(1024, 4)
    assert.equal(buffers.take(1025), undefined)
    assert.equal(buffers.take(255), undefined)
    assert.equal(buffers.take(256)?.byteLength, 1024)
  })

  it('keeps no more than it was told to for reuse', () => {
    const buffers = new LeafBuffers(16, 2)
    const out = [buffers.take(), buffers.take(), buffers.take()]
    for (const b of out) buffers.release(b!)
    const again = new Set([buffers.take(), buffers.take(), buffers.take()])
    assert.equal(out.filter((b) => again.has(b)).length, 2)
  })

  it('starts every buffer off a page boundary, where copies into and out of it run at full speed', () => {
    const buffers = new LeafBuffers(1024 * 1024, 2)
    const buffer = buffers.take()!
    assert.equal(buffer.byteOffset, PAGE_SKEW)
    assert.equal(buffer.byteLength, 1024 * 1024)
  })
})
