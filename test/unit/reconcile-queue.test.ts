import assert from 'node:assert/strict'

import {WorkQueue} from '../../src/core/reconcile/queue.js'

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms))

/** A handler whose calls wait until released, recording what ran and how much at once. */
function gatedHandler() {
  const calls: string[] = []
  const releases: Array<() => void> = []
  let running = 0
  let maxRunning = 0
  const perKey = new Map<string, number>()
  let maxPerKey = 0
  const handler = async (key: string) => {
    calls.push(key)
    running++
    maxRunning = Math.max(maxRunning, running)
    perKey.set(key, (perKey.get(key) ?? 0) + 1)
    maxPerKey = Math.max(maxPerKey, perKey.get(key)!)
    await new Promise<void>((resolve) => releases.push(resolve))
    running--
    perKey.set(key, perKey.get(key)! - 1)
  }
  const releaseAll = async () => {
    while (releases.length > 0) {
      for (const release of releases.splice(0)) release()
      await tick()
    }
  }
  return {calls, handler, releaseAll, stats: () => ({maxRunning, maxPerKey})}
}

describe('reconcile work queue', () => {
  it('holds a key added many times while it waits only once', async () => {
    const calls: string[] = []
    const queue = new WorkQueue(async (key) => {
      calls.push(key)
    }, {concurrency: 1, paused: true})
    for (let i = 0; i < 5; i++) queue.add('ns/a')
    queue.add('ns/b')
    queue.add('ns/a')
    assert.equal(queue.depth, 2)
    queue.resume()
    await queue.idle()
    assert.deepEqual(calls, ['ns/a', 'ns/b'])
  })

  it('never processes one key twice at once, and processes it again when it was added meanwhile', async () => {
    const g = gatedHandler()
    const queue = new WorkQueue(g.handler, {concurrency: 4})
    queue.add('ns/a')
    await tick()
    queue.add('ns/a')
    queue.add('ns/a')
    await tick()
    assert.deepEqual(g.calls, ['ns/a'], 'the second add waits for the first run')
    await g.releaseAll()
    await queue.idle()
    assert.deepEqual(g.calls, ['ns/a', 'ns/a'], 'the adds during the run make exactly one more run')
    assert.equal(g.stats().maxPerKey, 1)
  })

  it('processes at most `concurrency` keys at once', async () => {
    const g = gatedHandler()
    const queue = new WorkQueue(g.handler, {concurrency: 2})
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key)
    await tick()
    assert.equal(queue.active, 2)
    assert.equal(queue.depth, 3)
    await g.releaseAll()
    await queue.idle()
    assert.deepEqual([...g.calls].sort(), ['a', 'b', 'c', 'd', 'e'])
    assert.equal(g.stats().maxRunning, 2)
  })

  it('retries a failing key with a backoff that doubles per failure, and resets it on success', async () => {
    const times: number[] = []
    let fail = 3
    const errors: number[] = []
    const queue = new WorkQueue(
      async () => {
        times.push(Date.now())
        if (fail-- > 0) throw new Error('not yet')
      },
      {baseDelayMs: 40, maxDelayMs: 1000, onError: (_k, _e, delay) => errors.push(delay)},
    )
    queue.add('k')
    await tick(40 + 80 + 160 + 150)
    assert.deepEqual(errors, [40, 80, 160])
    assert.equal(times.length, 4, 'three failures then a success')
    const gaps = times.slice(1).map((t, i) => t - times[i])
    for (const [i, expected] of [40, 80, 160].entries()) assert.ok(gaps[i] >= expected - 5, `gap ${i} was ${gaps[i]} ms, expected about ${expected}`)
    assert.equal(queue.failuresOf('k'), 0)
    await queue.shutdown()
  })

  it('caps the backoff at maxDelayMs', () => {
    const queue = new WorkQueue(async () => {}, {baseDelayMs: 100, maxDelayMs: 1000})
    assert.deepEqual([1, 2, 3, 4, 5, 10].map((n) => queue.backoff(n)), [100, 200, 400, 800, 1000, 1000])
  })

  /** A queue whose first call fails, so key k waits out a minute's backoff after `add('k')`. */
  async function inBackoff() {
    const seen = {calls: 0}
    const queue = new WorkQueue(async () => {
      seen.calls++
      if (seen.calls === 1) throw new Error('first fails')
    }, {baseDelayMs: 60_000})
    queue.add('k')
    await tick(10)
    assert.equal(queue.delayed, 1)
    return {queue, seen}
  }

  it('an add during a backoff processes the key now', async () => {
    const {queue, seen} = await inBackoff()
    queue.add('k')
    await queue.idle()
    assert.equal(seen.calls, 2)
    assert.equal(queue.delayed, 0)
    await queue.shutdown()
  })

  it('coalesces a burst: many adds within the window make one call, at most the window later', async () => {
    const calls: number[] = []
    const started = Date.now()
    const queue = new WorkQueue(async () => {
      calls.push(Date.now() - started)
    })
    for (let i = 0; i < 100; i++) queue.addCoalesced('mesh', 80)
    await tick(20)
    for (let i = 0; i < 100; i++) queue.addCoalesced('mesh', 80)
    assert.deepEqual(calls, [], 'nothing before the window ends')
    await tick(150)
    assert.equal(calls.length, 1)
    assert.ok(calls[0] >= 75 && calls[0] < 150, `called after ${calls[0]} ms`)
    // A later burst is a second call.
    queue.addCoalesced('mesh', 30)
    await tick(80)
    assert.equal(calls.length, 2)
    await queue.shutdown()
  })

  it('a coalesced add does not wait out a longer backoff', async () => {
    const {queue, seen} = await inBackoff()
    queue.addCoalesced('k', 30)
    await tick(80)
    assert.equal(seen.calls, 2)
    await queue.shutdown()
  })

  it('shutdown waits for the keys in progress and drops the rest', async () => {
    const g = gatedHandler()
    const queue = new WorkQueue(g.handler, {concurrency: 1})
    queue.add('a')
    queue.add('b')
    await tick()
    let done = false
    const stopping = queue.shutdown().then(() => (done = true))
    await tick()
    assert.equal(done, false, 'a is still being processed')
    await g.releaseAll()
    await stopping
    assert.deepEqual(g.calls, ['a'])
    queue.add('c')
    await tick()
    assert.deepEqual(g.calls, ['a'], 'a stopped queue takes no keys')
  })
})
