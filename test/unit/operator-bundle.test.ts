import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {builtinModules} from 'node:module'
import path from 'node:path'

import {ROOT} from '../helpers/cli.js'

// `npm run build` bundles what `dappmesh operator run` loads into one CommonJS file (scripts/bundle.js).
// A long-running process keeps for its life every module it loaded: packages loaded from
// node_modules file by file cost it more resident memory than the same code bundled.
const BUNDLE = path.join(ROOT, 'dist/core/reconcile/fast-entry.bundle.cjs')

describe('the operator bundle (dist/core/reconcile/fast-entry.bundle.cjs)', () => {
  const text = () => readFileSync(BUNDLE, 'utf8')

  it('requires nothing from node_modules: yaml (the kubeconfig) is inside', () => {
    assert.ok(existsSync(BUNDLE), 'npm run build writes the bundle')
    const required = [...new Set([...text().matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]))]
    const builtin = (name: string) => name.startsWith('node:') || builtinModules.includes(name)
    assert.deepEqual(required.filter((name) => !builtin(name) && !name.startsWith('.')), [])
    assert.match(text(), /\/\/ node_modules\/yaml\//)
  })

  it('leaves out the project loader and js-yaml, which the operator never runs', () => {
    assert.doesNotMatch(text(), /\/\/ node_modules\/js-yaml\//)
    assert.doesNotMatch(text(), /\/\/ dist\/core\/project\//)
  })
})
