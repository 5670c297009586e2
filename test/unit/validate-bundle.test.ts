import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {ROOT} from '../helpers/cli.js'

// `npm run build` bundles what `dappmesh validate` loads into one file (scripts/bundle.js), and
// bin/run.js loads that file. The bundle is a different place for the same modules: what they
// find relative to their own file must still be there.
const BUNDLE = path.join(ROOT, 'dist/core/validate/fast-entry.bundle.js')

describe('the validate bundle (dist/core/validate/fast-entry.bundle.js)', () => {
  const text = () => readFileSync(BUNDLE, 'utf8')

  it('is what bin/run.js loads for validate', () => {
    assert.ok(existsSync(BUNDLE), 'npm run build writes the bundle')
    assert.match(readFileSync(path.join(ROOT, 'bin/run.js'), 'utf8'), /import\('\.\.\/dist\/core\/validate\/fast-entry\.bundle\.js'\)/)
  })

  it('finds every file it names relative to itself (the parse worker, package.json)', () => {
    const named = [...text().matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)].map((m) => m[1])
    assert.ok(named.some((n) => n.endsWith('parse-worker.js')), 'the parse worker is named')
    for (const relative of named) {
      assert.ok(existsSync(fileURLToPath(new URL(relative, `file://${BUNDLE}`))), `${relative} from the bundle`)
    }
  })

  it('finds the precompiled validators beside itself', () => {
    assert.match(text(), /new URL\(`\.\/\$\{module\}\.generated\.cjs`, import\.meta\.url\)/)
    assert.ok(existsSync(path.join(path.dirname(BUNDLE), 'validators.generated.cjs')))
  })

  it('carries js-yaml inside and loads other packages only when a project needs them', () => {
    const imports = [...text().matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1])
    assert.deepEqual(imports.filter((i) => !i.startsWith('node:')), [], 'no package is imported at load time')
  })
})
