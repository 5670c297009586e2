import assert from 'node:assert/strict'

import {eventMessage} from '../../src/core/reconcile/events.js'

describe('an Event message', () => {
  it('is kept whole up to 1 KiB', () => {
    const message = 'x'.repeat(1024)
    assert.equal(eventMessage(message), message)
  })

  it('over 1 KiB is cut to 1 KiB and says it was cut', () => {
    const message = `${'a'.repeat(1000)}${'b'.repeat(100)}`
    const cut = eventMessage(message)
    assert.equal(cut.length, 1024)
    assert.ok(cut.endsWith(' … (truncated)'), cut.slice(-30))
    assert.ok(cut.startsWith('a'.repeat(1000)))
  })
})
