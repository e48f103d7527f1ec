import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { pino } from 'pino'
import { createUseClock } from '../../src/store/use-clock.ts'

/** A datastore that counts its writes. */
function countingDatastore (): { datastore: MemoryDatastore, puts: () => number } {
  const datastore = new MemoryDatastore()
  let puts = 0
  const put = datastore.put.bind(datastore)
  datastore.put = async (...args) => { puts++; return await put(...args) }
  return { datastore, puts: () => puts }
}

describe('the use clock', () => {
  it('writes a use at most once a minute per key, and knows every use in memory', async () => {
    let now = 1_000_000
    const { datastore, puts } = countingDatastore()
    const clock = createUseClock({ datastore, log: pino({ level: 'silent' }), now: () => now })
    clock.used('a')
    now += 30_000
    clock.used('a')
    assert.equal(puts(), 1)
    assert.equal((await clock.all()).get('a'), now)
    now += 31_000
    clock.used('a')
    assert.equal(puts(), 2)
  })

  it('writes nothing for a use in the minute after its record was stored, and again after that', async () => {
    let now = 1_000_000
    const { datastore, puts } = countingDatastore()
    const clock = createUseClock({ datastore, log: pino({ level: 'silent' }), now: () => now })
    clock.stored('p')
    now += 5_000
    clock.used('p')
    assert.equal(puts(), 0, 'the record\'s fetch time stands for this use')
    assert.equal((await clock.all()).get('p'), now, 'the use is still known')
    now += 60_000
    clock.used('p')
    assert.equal(puts(), 1)
    // what a restarted node reads back
    const restarted = createUseClock({ datastore, log: pino({ level: 'silent' }), now: () => now })
    assert.equal((await restarted.all()).get('p'), now)
  })
})
