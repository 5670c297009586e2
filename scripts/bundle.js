#!/usr/bin/env node
// Run by `npm run build` after tsc: bundles the modules that `dappmesh validate` loads into one
// file, dist/core/validate/fast-entry.bundle.js, which bin/run.js loads instead of the ~70 files
// tsc writes for them. Resolving, reading and compiling each ES module separately was a fifth of
// validating a 1,000-document project (bench/run.js prints the figures).
//
// The bundle sits beside fast-entry.js on purpose: the paths its modules take relative to their
// own file (the precompiled validators ./<name>.generated.cjs, ../../../package.json, the parse
// worker ../project/parse-worker.js) then point at the same files from the bundle. js-yaml,
// which every run parses with, is bundled; the other packages stay in node_modules and load
// only when a project needs them (DuckDB for SQL, yaml for a project with findings, ...).
import {readFileSync} from 'node:fs'
import {build} from 'esbuild'

const root = new URL('../', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
const BUNDLED = new Set(['js-yaml', 'chalk'])

await build({
  absWorkingDir: new URL('.', root).pathname,
  entryPoints: ['dist/core/validate/fast-entry.js'],
  outfile: 'dist/core/validate/fast-entry.bundle.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20', // package.json engines
  external: Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`]),
  logLevel: 'warning',
})
