import assert from 'node:assert/strict'

import {TokenBucket, rateLimitFromEnv} from '../../src/core/kube/rate-limit.js'
import {WriteRefusedError} from '../../src/core/kube/rest.js'
import {leaderWriteGate} from '../../src/core/reconcile/leader.js'
import {WorkQueue} from '../../src/core/reconcile/queue.js'

describe('client-side limits', () => {
  describe('the token bucket', () => {
    it('lets a burst through at once, then paces requests at qps', async () => {
      const bucket = new TokenBucket(20, 3)
      const started = performance.now()
      const times: number[] = []
      await Promise.all(Array.from({length: 7}, () => bucket.take().then(() => times.push(performance.now() - started))))
      times.sort((a, b) => a - b)
      assert.ok(times.slice(0, 3).every((t) => t < 20), `the burst went at once: ${times.map(Math.round)}`)
      // 4 more at 20 a second: the last about 200 ms after the start, not sooner.
      assert.ok(times[6] >= 190, `the rest were paced: ${times.map(Math.round)}`)
      assert.ok(times[6] < 1000, `…but not stalled: ${times.map(Math.round)}`)
    })

    it('refuses a limit that would never let a request go', () => {
      assert.throws(() => new TokenBucket(0, 1), RangeError)
      assert.throws(() => new TokenBucket(5, 0), RangeError)
    })

    it('reads its defaults from the environment, ignoring nonsense', () => {
      assert.deepEqual(rateLimitFromEnv({}), {qps: 50, burst: 100})
      assert.deepEqual(rateLimitFromEnv({DAPPMESH_KUBE_QPS: '100', DAPPMESH_KUBE_BURST: '200'}), {qps: 100, burst: 200})
      assert.deepEqual(rateLimitFromEnv({DAPPMESH_KUBE_QPS: '-1', DAPPMESH_KUBE_BURST: 'lots'}), {qps: 50, burst: 100})
    })
  })

  describe('the leader write gate', () => {
    it('answers the time left until the lease may be lost, and refuses writes from then on', () => {
      let now = 1000
      const gate = leaderWriteGate(() => 5000, () => now)
      assert.equal(gate(), 4000)
      now = 5000
      assert.throws(() => gate(), WriteRefusedError)
    })
  })

  describe('the work queue progress clock (for /healthz)', () => {
    it('is busy while a key hangs, and its last progress stays where the key started', async () => {
      let release!: () => void
      const queue = new WorkQueue(() => new Promise<void>((resolve) => (release = resolve)))
      const before = queue.lastProgressAt
      queue.add('a')
      assert.equal(queue.busy, true)
      await new Promise((resolve) => setTimeout(resolve, 30))
      assert.ok(queue.lastProgressAt - before < 30, 'no progress while the key hangs')
      const releasedAt = Date.now()
      release()
      await queue.idle()
      assert.equal(queue.busy, false)
      assert.ok(queue.lastProgressAt >= releasedAt, 'progress once it finished')
    })
  })
})
