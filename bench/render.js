#!/usr/bin/env node
// `dappmesh render` of one product grown to BENCH_RENDER_MB (default "5,50") megabytes of inline
// contracts (bench/lib/large-project.js): wall time, CPU time and peak RSS of each size, the
// growth between sizes (render should be about linear) and peak RSS over input size. Also once
// with a capped V8 heap, which shows the live memory (the uncapped RSS is partly V8 deferring GC).
// Writes bench/render-results.json.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {generateLargeProject} from './lib/large-project.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const preload = path.join(root, 'bench/lib/max-rss.js')
const SIZES = (process.env.BENCH_RENDER_MB ?? '5,50').split(',').map(Number)
const log = (line) => process.stderr.write(`${line}\n`)
const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-render-'))

function render(dir, nodeFlags = []) {
  const started = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', pathToFileURL(preload).href, cli, 'render', dir], {encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26})
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  if (r.status !== 0) throw new Error(`render ${dir} failed (${r.status}):\n${r.stderr.slice(-2000)}`)
  const rss = Number(/bench-max-rss-kb=(\d+)/.exec(r.stderr)?.[1]) / 1024
  return {wallMs: Math.round(wallMs), maxRssMb: Math.round(rss)}
}

try {
  const results = []
  for (const mb of SIZES) {
    const dir = path.join(work, `p${mb}`)
    const bytes = generateLargeProject(dir, path.join(root, 'examples'), mb)
    const inputMb = bytes / 1024 / 1024
    const run = render(dir)
    const capMb = Math.max(64, Math.ceil(inputMb * 4))
    const capped = render(dir, [`--max-old-space-size=${capMb}`])
    results.push({inputMb: Number(inputMb.toFixed(1)), ...run, rssOverInput: Number((run.maxRssMb / inputMb).toFixed(1)), cappedHeapMb: capMb, capped})
    log(`render ${inputMb.toFixed(1)} MB: ${run.wallMs} ms, peak RSS ${run.maxRssMb} MB (${(run.maxRssMb / inputMb).toFixed(1)}x input); with the heap capped at ${capMb} MB: ${capped.wallMs} ms, ${capped.maxRssMb} MB`)
  }
  for (let i = 1; i < results.length; i++) {
    const [a, b] = [results[i - 1], results[i]]
    log(`growth ${a.inputMb} -> ${b.inputMb} MB (${(b.inputMb / a.inputMb).toFixed(1)}x input): time ${(b.wallMs / a.wallMs).toFixed(1)}x`)
  }
  writeFileSync(path.join(root, 'bench/render-results.json'), `${JSON.stringify({date: new Date().toISOString(), cpus: os.cpus().length, loadAverage: os.loadavg()[0], results}, null, 2)}\n`)
} finally {
  rmSync(work, {recursive: true, force: true})
}
