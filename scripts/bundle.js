#!/usr/bin/env node
// Run by `npm run build` after tsc: bundles the modules that `dappmesh validate` loads into one
// CommonJS file, dist/core/validate/fast-entry.bundle.cjs (and those of `operator run` into
// dist/core/reconcile/fast-entry.bundle.cjs, see below), which bin/run.js loads through V8's
// code cache (dist/core/code-cache.cjs) instead of the ~70 ES modules tsc writes for them.
// Resolving, reading and compiling each module separately, and compiling every function again on
// every run, were a fifth of validating a 1,000-document project (bench/run.js prints the figures).
// CommonJS because Node 20 offers a code cache only for scripts (vm.Script), not for ES modules.
//
// The bundle sits beside fast-entry.js on purpose: the paths its modules take relative to their
// own file (the precompiled validators ./<name>.generated.cjs, ../../../package.json, the parse
// worker ../project/parse-worker.js) then point at the same files from the bundle. js-yaml and
// chalk, which every run loads, are bundled; the other packages stay in node_modules and load
// only when a project needs them (DuckDB for SQL, yaml for a project with findings, ...).
import {readFileSync} from 'node:fs'
import {build} from 'esbuild'

const root = new URL('../', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
const BUNDLED = new Set(['js-yaml', 'chalk'])

const common = {
  absWorkingDir: new URL('.', root).pathname,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20', // package.json engines
  // import.meta.url of every bundled module is the bundle's own URL (see above).
  define: {'import.meta.url': '__bundle_url'},
  banner: {js: 'var __bundle_url = require("node:url").pathToFileURL(__filename).href;'},
  // import() becomes require(): a script run from the code cache has no ES module loader for it.
  supported: {'dynamic-import': false},
  logLevel: 'warning',
}

// The loader, on its own: bin/run.js needs it before the bundle, and the bundle shares its state.
await build({...common, entryPoints: ['dist/core/code-cache.js'], outfile: 'dist/core/code-cache.cjs'})

const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`])
const sharedCodeCache = {
  name: 'shared-code-cache',
  setup(b) {
    b.onResolve({filter: /\/code-cache\.js$/}, () => ({path: '../code-cache.cjs', external: true}))
  },
}

await build({...common, entryPoints: ['dist/core/validate/fast-entry.js'], outfile: 'dist/core/validate/fast-entry.bundle.cjs', external, plugins: [sharedCodeCache]})

// `operator run` the same way (bin/run.js): a long-running process keeps every module it loaded
// for its life. The modules it imports statically reach into rendering and validation for a few
// constants; esbuild's tree shaking leaves those out, so the bundle is the operator's code alone.
// Two things more than for validate: `yaml` (the kubeconfig) is bundled too, rather than loaded
// from node_modules as ~80 CommonJS files each resolved, read and compiled (loading the bundle alone,
// node -e after gc: RSS 55 -> 47.5 MiB; the operator bench's RSS once the operator has connected
// and listed showed no such gain, 58.3 -> 58.7 MiB, within its noise); and the project and validation modules
// are declared free of side effects, so that what their top level computes on load (js-yaml's
// schemas, a parser's tables) goes with the rest of them when the operator uses none of it
// (-100 KB of source, which V8 keeps for the functions it compiles lazily).
const OPERATOR_BUNDLED = new Set([...BUNDLED, 'yaml'])
const operatorExternal = Object.keys(pkg.dependencies).filter((name) => !OPERATOR_BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`])
const PURE = /\/dist\/core\/(project|validate)\/|\/node_modules\/js-yaml\//
const pureForOperator = {
  name: 'pure-for-operator',
  setup(b) {
    b.onResolve({filter: /.*/}, async (args) => {
      if (args.pluginData === pureForOperator || args.kind === 'entry-point') return undefined
      const resolved = await b.resolve(args.path, {resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: pureForOperator})
      if (resolved.errors.length > 0 || resolved.external || !PURE.test(resolved.path)) return undefined
      return {...resolved, sideEffects: false}
    })
  },
}
await build({...common, entryPoints: ['dist/core/reconcile/fast-entry.js'], outfile: 'dist/core/reconcile/fast-entry.bundle.cjs', external: operatorExternal, plugins: [sharedCodeCache, pureForOperator]})
