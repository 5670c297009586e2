import assert from 'node:assert/strict'

import {OPERATOR_API_CONNECTIONS, operatorApiConnections} from '../../src/core/reconcile/footprint.js'

describe("the cap on the operator's request connections", () => {
  it('is OPERATOR_API_CONNECTIONS unless $DAPPMESH_OPERATOR_API_CONNECTIONS says otherwise', () => {
    assert.equal(operatorApiConnections({}), OPERATOR_API_CONNECTIONS)
    assert.equal(operatorApiConnections({DAPPMESH_OPERATOR_API_CONNECTIONS: '3'}), 3)
  })

  it('is lifted by $DAPPMESH_OPERATOR_API_CONNECTIONS=unlimited, to measure without it', () => {
    assert.equal(operatorApiConnections({DAPPMESH_OPERATOR_API_CONNECTIONS: 'unlimited'}), Number.POSITIVE_INFINITY)
  })

  it('ignores a value that is not a positive whole number (no cap of 0, which would block every request)', () => {
    for (const value of ['0', '-2', '2.5', 'many', '']) assert.equal(operatorApiConnections({DAPPMESH_OPERATOR_API_CONNECTIONS: value}), OPERATOR_API_CONNECTIONS, value)
  })
})
