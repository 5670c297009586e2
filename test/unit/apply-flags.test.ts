import assert from 'node:assert/strict'

import {STACK_TRACE, cli, fixture, flat} from '../helpers/cli.js'

describe('dappmesh apply flags', () => {
  it('rejects a --timeout that is not a duration with exit 2', () => {
    const r = cli(['apply', fixture('validate', 'valid-minimal'), '--dry-run=client', '--timeout', 'soon'])
    assert.equal(r.code, 2)
    assert.match(flat(r.stderr), /"soon" is not a duration/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('rejects an unknown --dry-run mode with exit 2', () => {
    const r = cli(['apply', fixture('validate', 'valid-minimal'), '--dry-run=maybe'])
    assert.equal(r.code, 2)
  })
})
