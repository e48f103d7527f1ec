import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { createActivity } from '../../src/node/activity.ts'

const fetch = (cache: string, path = '/npm/x', format = 'npm') => ({ format, method: 'GET', path, status: 200, cache, ms: 3 })

describe('activity', () => {
  it('keeps the last fetches newest first, counts outcomes per format and ignores other X-Cache values', () => {
    const activity = createActivity({ recentSize: 3 })
    try {
      for (const [i, cache] of ['MISS', 'HIT', 'peer', 'STALE', 'bogus'].entries()) activity.record(fetch(cache, `/npm/${i}`))
      activity.record(fetch('HIT', '/pypi/simple/x/', 'pypi'))
      assert.deepEqual(activity.recent().map((f) => [f.path, f.cache]), [['/pypi/simple/x/', 'HIT'], ['/npm/3', 'STALE'], ['/npm/2', 'PEER']])
      assert.deepEqual(activity.totals(), { npm: { HIT: 1, PEER: 1, MISS: 1, STALE: 1 }, pypi: { HIT: 1, PEER: 0, MISS: 0, STALE: 0 } })
      activity.recent()[0]!.path = 'changed'
      assert.equal(activity.recent()[0]!.path, '/pypi/simple/x/', 'callers get copies')
    } finally {
      activity.stop()
    }
  })

  it('cuts long paths', () => {
    const activity = createActivity()
    activity.record(fetch('HIT', `/npm/${'x'.repeat(1000)}`))
    activity.stop()
    assert.equal(activity.recent()[0]!.path.length, 301)
  })

  it('samples every interval into a bounded history, the open interval last', async () => {
    const activity = createActivity({ intervalMs: 40, historySize: 3 })
    try {
      activity.record(fetch('MISS'))
      await sleep(60)
      activity.record(fetch('HIT'))
      activity.record(fetch('HIT'))
      const history = activity.history()
      assert.ok(history.length >= 2)
      assert.equal(history[0]!.formats.npm?.MISS, 1)
      assert.equal(history.at(-1)!.formats.npm?.HIT, 2)
      await sleep(250)
      assert.equal(activity.history().length, 4, 'three closed samples and the open one')
      assert.ok(activity.history().every((s) => s.formats.npm === undefined), 'the old samples fell out')
    } finally {
      activity.stop()
    }
  })
})
