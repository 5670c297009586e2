// mocha's `spec` from a config file is added to the files named on the command line, so
// `mocha test/unit/x.test.ts` would run the whole suite. Use the full suite only when no test file
// is named.
const named = process.argv.slice(2).some((arg) => /\.test\.ts$/.test(arg) || /^test\//.test(arg))

module.exports = {
  extension: ['ts'],
  ...(named ? {} : {spec: ['test/**/*.test.ts']}),
  'node-option': ['import=tsx'],
  'forbid-only': true,
  timeout: 60000,
  reporter: 'spec',
  require: ['test/helpers/init.ts', 'test/helpers/cluster.ts'],
}
