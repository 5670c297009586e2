import assert from 'node:assert/strict'

import {ExitCode} from '../../src/core/errors.js'
import {parseSize} from '../../src/core/size.js'

describe('parseSize', () => {
  it('reads decimal and binary units the way DuckDB does', () => {
    assert.equal(parseSize('512'), 512)
    assert.equal(parseSize('10MB'), 10_000_000)
    assert.equal(parseSize('64MiB'), 64 * 2 ** 20)
    assert.equal(parseSize('512k'), 512 * 1024)
    assert.equal(parseSize('1.5 GB'), 1_500_000_000)
    assert.equal(parseSize('2gib'), 2 * 2 ** 30)
    assert.equal(parseSize('1TB'), 10 ** 12)
  })

  for (const bad of ['', 'lots', '10 parsecs', '-5MB', 'MB']) {
    it(`refuses "${bad}" with exit 2 and an example`, () => {
      assert.throws(() => parseSize(bad), (error: {exit: number; message: string; suggestions: string[]}) => {
        assert.equal(error.exit, ExitCode.usage)
        assert.equal(error.message, `"${bad}" is not a size`)
        assert.match(error.suggestions.join(' '), /64MiB/)
        return true
      })
    })
  }
})
