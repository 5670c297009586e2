#!/usr/bin/env node
// Run after tsc by `npm run build`: compiles every kind's JSON Schema (and the ODCS document's)
// ahead of time into dist/core/validate/validators.generated.cjs, so that `dappmesh validate`
// loads ready validators instead of compiling them on every run. Without the file, or when a
// schema no longer matches its fingerprint, validators are compiled at run time as before.
import {writeFileSync} from 'node:fs'

const {precompiledModule} = await import('../dist/core/validate/precompile.js')
const target = new URL('../dist/core/validate/validators.generated.cjs', import.meta.url)
writeFileSync(target, precompiledModule())
