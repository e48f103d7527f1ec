import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { isTimeout } from '../../src/errors.ts'
import { requestSignal } from '../../src/gateway/request-signal.ts'

describe('a request signal', () => {
  it('aborts with a timeout when the deadline passes', async () => {
    using deadline = requestSignal(new AbortController().signal, 20)
    await sleep(60)
    assert.equal(deadline.signal.aborted, true)
    assert.ok(isTimeout(deadline.signal.reason), String(deadline.signal.reason))
  })

  it('aborts with the client\'s reason when the client leaves', () => {
    const client = new AbortController()
    using deadline = requestSignal(client.signal, 60_000)
    client.abort(new Error('client left'))
    assert.equal(deadline.signal.aborted, true)
    assert.equal((deadline.signal.reason as Error).message, 'client left')
  })

  // a deadline that cannot be cleared keeps its timer and signal in memory until it fires
  it('is cleared once the response has started: the deadline never fires', async () => {
    const signals = Array.from({ length: 1000 }, () => requestSignal(new AbortController().signal, 30))
    for (const s of signals) s[Symbol.dispose]()
    await sleep(60)
    assert.ok(signals.every((s) => !s.signal.aborted), 'a disposed deadline fired')
  })
})
