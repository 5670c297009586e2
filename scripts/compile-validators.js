#!/usr/bin/env node
// Run after tsc by `npm run build`: compiles every kind's JSON Schema (and each ODCS version's)
// ahead of time into dist/core/validate/*.generated.cjs, so that `dappmesh validate`
// loads ready validators instead of compiling them on every run. Without the file, or when a
// schema no longer matches its fingerprint, validators are compiled at run time as before.
import {writeFileSync} from 'node:fs'

const {precompiledModule, precompiledModules} = await import('../dist/core/validate/precompile.js')
for (const {module, schemas} of precompiledModules()) {
  writeFileSync(new URL(`../dist/core/validate/${module}.generated.cjs`, import.meta.url), precompiledModule(schemas))
}
