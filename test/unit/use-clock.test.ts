import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { pino } from 'pino'
import { createUseClock, type UseClock } from '../../src/store/use-clock.ts'

const silent = pino({ level: 'silent' })

/** A use clock on a datastore that counts its writes, at a time the test moves. */
function clockAt (start: number): { clock: UseClock, datastore: MemoryDatastore, puts: () => number, now: () => number, wait: (ms: number) => void } {
  let now = start
  let puts = 0
  const datastore = new MemoryDatastore()
  const put = datastore.put.bind(datastore)
  datastore.put = async (...args) => { puts++; return await put(...args) }
  const clock = createUseClock({ datastore, log: silent, now: () => now })
  return { clock, datastore, puts: () => puts, now: () => now, wait: (ms) => { now += ms } }
}

describe('the use clock', () => {
  it('writes a use at most once a minute per key, and knows every use in memory', async () => {
    const { clock, puts, now, wait } = clockAt(1_000_000)
    clock.used('a')
    wait(30_000)
    clock.used('a')
    assert.equal(puts(), 1)
    assert.equal((await clock.all()).get('a'), now())
    wait(31_000)
    clock.used('a')
    assert.equal(puts(), 2)
  })

  it('writes nothing for a use in the minute after its record was stored, and again after that', async () => {
    const { clock, datastore, puts, now, wait } = clockAt(1_000_000)
    clock.stored('p')
    wait(5_000)
    clock.used('p')
    assert.equal(puts(), 0, 'the record\'s fetch time stands for this use')
    assert.equal((await clock.all()).get('p'), now(), 'the use is still known')
    wait(60_000)
    clock.used('p')
    assert.equal(puts(), 1)
    // what a restarted node reads back
    const restarted = createUseClock({ datastore, log: silent, now })
    assert.equal((await restarted.all()).get('p'), now())
  })
})
