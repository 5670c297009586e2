import assert from 'node:assert/strict'

import {validateDirectory} from '../../src/core/validate/validate.js'
import {RunProject} from '../helpers/run-project.js'

describe('validate rule storage', () => {
  let p: RunProject
  beforeEach(() => {
    p = new RunProject()
  })
  afterEach(() => p.remove())

  it('warns, at the flow, when its states would live in an engine with no driver (the project stays valid)', async () => {
    p.write('storage.yaml', 'apiVersion: dappmesh.io/v1alpha1\nkind: DataStorage\nmetadata:\n  name: warehouse\nspec:\n  class: analytics\n  engine: clickhouse\n')
    const result = await validateDirectory(p.dir)
    assert.equal(result.valid, true)
    const storage = result.findings.filter((f) => f.rule === 'storage')
    assert.deepEqual(storage.map((f) => [f.file, f.line, f.severity, f.name]), [
      ['model/customers/flow.yaml', 4, 'warning', 'customers'],
      ['model/sales/flow.yaml', 4, 'warning', 'sales'],
    ])
    assert.match(storage[0].message, /lives? in DataStorage "warehouse" \(engine clickhouse\), which has no driver yet, so dappmesh run refuses this flow/)
  })

  it('says nothing for the embedded default or a duckdb storage', async () => {
    const result = await validateDirectory(p.dir)
    assert.deepEqual(result.findings.filter((f) => f.rule === 'storage'), [])
  })

  it('reports a spec.storage that names no DataStorage (rule ref)', async () => {
    p.edit('model/customers/flow.yaml', 'version: 1.0.0', 'version: 1.0.0\n  storage: nowhere')
    const result = await validateDirectory(p.dir)
    assert.equal(result.valid, false)
    assert.match(result.findings.find((f) => f.rule === 'ref')?.message ?? '', /spec\.storage: no DataStorage named "nowhere"/)
  })
})
