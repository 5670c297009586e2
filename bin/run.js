#!/usr/bin/env node
// `--version` is answered before oclif loads: it is asked by scripts and shells many times a
// second, and the answer needs nothing but package.json.
const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {readFileSync} = await import('node:fs')
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (!(argv[0] === 'validate' && (await (await import('../dist/core/validate/fast-entry.js')).tryFastValidate(argv)))) {
  // `validate` with plain arguments is answered without loading oclif (dist/core/validate/fast-entry.js);
  // everything else, and anything that module does not recognise, goes to oclif.
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
