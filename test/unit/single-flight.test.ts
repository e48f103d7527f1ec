import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSingleFlight } from '../../src/pull/single-flight.ts'

describe('single flight', () => {
  it('runs the work once for callers that arrive while it runs, and counts each who joined', async () => {
    let joins = 0
    let runs = 0
    const flight = createSingleFlight<string>({ onJoin: () => { joins++ } })
    const gate = Promise.withResolvers<void>()
    const work = async (): Promise<string> => { runs++; await gate.promise; return 'done' }
    const signal = new AbortController().signal
    const callers = [flight.run('k', signal, work), flight.run('k', signal, work), flight.run('k', signal, work)]
    const other = flight.run('other', signal, work)
    gate.resolve()
    assert.deepEqual(await Promise.all([...callers, other]), ['done', 'done', 'done', 'done'])
    assert.equal(runs, 2)
    assert.equal(joins, 2, 'the two later callers of k joined; the first of each key did not')
    // once it has ended, the next caller starts afresh: no join
    await flight.run('k', signal, work)
    assert.equal(joins, 2)
  })
})
