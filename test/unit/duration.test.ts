import assert from 'node:assert/strict'

import {parseDuration} from '../../src/core/duration.js'
import {UsageError} from '../../src/core/errors.js'

describe('parseDuration', () => {
  it('reads each unit and their sums', () => {
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('30s'), 30_000)
    assert.equal(parseDuration('10m'), 600_000)
    assert.equal(parseDuration('1h'), 3_600_000)
    assert.equal(parseDuration('7d'), 604_800_000)
    assert.equal(parseDuration('1m30s'), 90_000)
  })

  it('rejects text that is not a duration as a usage error', () => {
    for (const bad of ['', '10', 'five minutes', '5x', '1m 30s']) {
      assert.throws(() => parseDuration(bad), (error: unknown) => error instanceof UsageError && error.exit === 2)
    }
  })
})
