#!/usr/bin/env node
// `--version` is answered before oclif loads: it is asked by scripts and shells many times a
// second, and the answer needs nothing but package.json.
const argv = process.argv.slice(2)
// Ctrl-C exits 130, the code a shell gives a process SIGINT ended, so scripts can tell an interrupt
// from a failure. Commands that stop gracefully on SIGINT (operator run, status --watch) add their
// own listener, and then this one leaves the exit to them.
process.on('SIGINT', () => {
  if (process.listenerCount('SIGINT') === 1) process.exit(130)
})
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {readFileSync} = await import('node:fs')
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (
  !(argv[0] === 'validate' && (await fastValidate(argv))) &&
  !(argv[0] === 'operator' && argv[1] === 'run' && (await fastOperatorRun(argv)))
) {
  // `validate` and `operator run` with plain arguments run without loading oclif (see
  // fastValidate and fastOperatorRun below); everything else, and anything those modules do not
  // recognise, goes to oclif.
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}

/**
 * `validate` with plain arguments is answered without loading oclif (dist/core/validate/fast-entry.js),
 * from one bundled file (scripts/bundle.js) compiled from V8's code cache (dist/core/code-cache.cjs).
 */
async function fastValidate(args) {
  const {createRequire} = await import('node:module')
  const require = createRequire(import.meta.url)
  const {requireWithCodeCache} = require('../dist/core/code-cache.cjs')
  return requireWithCodeCache(require.resolve('../dist/core/validate/fast-entry.bundle.cjs')).tryFastValidate(args)
}

/**
 * `operator run` with plain arguments runs without oclif (dist/core/reconcile/fast-entry.js), from
 * one bundled file holding only the operator's code (scripts/bundle.js), through the same code cache.
 */
async function fastOperatorRun(args) {
  const {createRequire} = await import('node:module')
  const require = createRequire(import.meta.url)
  const {requireWithCodeCache} = require('../dist/core/code-cache.cjs')
  return requireWithCodeCache(require.resolve('../dist/core/reconcile/fast-entry.bundle.cjs')).tryFastOperatorRun(args)
}
