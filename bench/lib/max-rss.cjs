// Preloaded into a measured process (node --require): reports its peak resident set size on exit.
const {writeSync} = require('node:fs')
process.on('exit', () => writeSync(2, `\nbench-max-rss-kb=${process.resourceUsage().maxRSS}\n`))
