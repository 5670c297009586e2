import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {ROOT} from '../helpers/cli.js'

// `npm run build` bundles what `dappmesh validate` loads into one CommonJS file (scripts/bundle.js),
// and bin/run.js loads that file through V8's code cache. The bundle is a different place for the
// same modules: what they find relative to their own file must still be there.
const BUNDLE = path.join(ROOT, 'dist/core/validate/fast-entry.bundle.cjs')

describe('the validate bundle (dist/core/validate/fast-entry.bundle.cjs)', () => {
  const text = () => readFileSync(BUNDLE, 'utf8')

  it('is what bin/run.js loads for validate, through the code cache', () => {
    assert.ok(existsSync(BUNDLE), 'npm run build writes the bundle')
    const bin = readFileSync(path.join(ROOT, 'bin/run.js'), 'utf8')
    assert.match(bin, /requireWithCodeCache\(require\.resolve\('\.\.\/dist\/core\/validate\/fast-entry\.bundle\.cjs'\)\)/)
    assert.ok(existsSync(path.join(ROOT, 'dist/core/code-cache.cjs')))
  })

  it('finds every file it names relative to itself (the parse worker, package.json)', () => {
    const named = [...text().matchAll(/new URL\("([^"]+)", __bundle_url\)/g)].map((m) => m[1])
    assert.ok(named.some((n) => n.endsWith('parse-worker.js')), 'the parse worker is named')
    for (const relative of named) {
      assert.ok(existsSync(fileURLToPath(new URL(relative, pathToFileURL(BUNDLE)))), `${relative} from the bundle`)
    }
  })

  it('finds the precompiled validators beside itself', () => {
    assert.match(text(), /new URL\(`\.\/\$\{module\d*\}\.generated\.cjs`, __bundle_url\)/)
    assert.ok(existsSync(path.join(path.dirname(BUNDLE), 'validators.generated.cjs')))
  })

  it('shares the code cache loader with bin/run.js rather than carrying a copy', () => {
    assert.match(text(), /require\("\.\.\/code-cache\.cjs"\)/)
  })

  it('carries js-yaml and chalk inside, and requires other packages only when a project needs them', () => {
    const topLevel = [...text().matchAll(/^var \w+ = (?:__toESM\()?require\("([^"]+)"\)/gm)].map((m) => m[1])
    assert.deepEqual(topLevel.filter((r) => !r.startsWith('node:') && !r.startsWith('.')), [], 'no package is required at load time')
    assert.doesNotMatch(text(), /\bimport\(/, 'no import(), which a script run from the code cache cannot do')
  })
})
