#!/usr/bin/env node
// `npm run bench` (after `npm run build`): start-up against `node -e 0`, and validation throughput
// against kubeconform, each measured against its reference in the same run, interleaved, and
// summarised by medians. Prints a table and writes bench/results.json. Missing a goal is a result,
// not a failure: the exit code is non-zero only when the bench itself cannot run.
//
// Knobs (environment): BENCH_STARTUP_RUNS (default 20), BENCH_THROUGHPUT_RUNS (7),
// BENCH_DOCUMENTS (1000), DAPPMESH_KUBECONFORM (a kubeconform binary to use instead of building one).
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {generateProject} from './lib/generate.js'
import {ensureKubeconform, exportSchemas, parseSummary} from './lib/kubeconform.js'
import {BenchError, interleave, summarize} from './lib/measure.js'
import {profile} from './lib/profile.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const node = process.execPath
const intEnv = (name, fallback) => (process.env[name] ? Math.max(1, Number.parseInt(process.env[name], 10)) : fallback)
const STARTUP_RUNS = intEnv('BENCH_STARTUP_RUNS', 20)
const THROUGHPUT_RUNS = intEnv('BENCH_THROUGHPUT_RUNS', 7)
const DOCUMENTS = intEnv('BENCH_DOCUMENTS', 1000)
const GOALS = {versionVsNode: 1.5, throughputVsKubeconform: 1}

const log = (line) => process.stderr.write(`${line}\n`)
const fmt = (ms) => `${ms.toFixed(1)} ms`
const ratio = (a, b) => Math.round((a / b) * 100) / 100

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

function startup() {
  const env = {...process.env, NO_COLOR: '1'}
  const cases = [
    {name: 'node -e 0', command: node, args: ['-e', '0'], env},
    {name: 'dappmesh --version', command: node, args: [cli, '--version'], env},
    {name: 'dappmesh --help', command: node, args: [cli, '--help'], env},
    {name: 'dappmesh validate examples/orders', command: node, args: [cli, 'validate', path.join(root, 'examples/orders')], env},
  ]
  log(`start-up: ${cases.length} cases x ${STARTUP_RUNS} runs, interleaved`)
  const samples = interleave(cases, {runs: STARTUP_RUNS, warmup: 2})
  const stats = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]))
  const ref = stats['node -e 0'].median
  return {
    reference: 'node -e 0',
    cases: Object.fromEntries(Object.entries(stats).map(([k, s]) => [k, {...s, ratio: ratio(s.median, ref)}])),
  }
}

function checkedRun(command, args, expectExit) {
  const r = spawnSync(command, args, {encoding: 'utf8', maxBuffer: 256 * 1024 * 1024})
  if (r.error) throw new BenchError(`${command}: ${r.error.message}`)
  if (r.status !== expectExit) throw new BenchError(`${command} ${args.join(' ')} exited ${r.status}:\n${(r.stdout + r.stderr).slice(0, 3000)}`)
  return r.stdout
}

function throughput(work, {KINDS, API_VERSION}) {
  const project = path.join(work, 'project')
  const generated = generateProject(project, DOCUMENTS)
  log(`throughput: generated ${generated.documents} documents in ${generated.files} files (${generated.products} products)`)

  // Our own answer first: the generated project must be valid, or the comparison means nothing.
  const ours = JSON.parse(checkedRun(node, [cli, 'validate', project, '--json'], 0))
  if (!ours.valid || ours.resources !== generated.documents) {
    throw new BenchError(`dappmesh validate did not find ${generated.documents} valid resources: ${JSON.stringify({valid: ours.valid, resources: ours.resources, findings: ours.findings?.slice(0, 3)})}`)
  }
  const cases = [{name: 'dappmesh validate --json', command: node, args: [cli, 'validate', project, '--json']}]

  const kc = ensureKubeconform(log)
  let kubeconform = {skipped: kc.skipped}
  if (kc.binary) {
    const location = exportSchemas(KINDS, path.join(work, 'schemas'), API_VERSION)
    const args = ['-strict', '-summary', '-schema-location', location, project]
    const summary = parseSummary(checkedRun(kc.binary, args, 0))
    if (!summary || summary.valid !== generated.documents) throw new BenchError(`kubeconform did not find ${generated.documents} valid resources: ${JSON.stringify(summary)}`)
    kubeconform = {binary: kc.binary, version: kc.version, schemaLocation: location, summary}
    cases.push({name: 'kubeconform -strict', command: kc.binary, args})
  } else {
    log(`kubeconform skipped: ${kc.skipped}`)
  }

  log(`throughput: ${cases.length} cases x ${THROUGHPUT_RUNS} runs, interleaved`)
  const samples = interleave(cases, {runs: THROUGHPUT_RUNS, warmup: 1})
  const stats = Object.fromEntries(
    Object.entries(samples).map(([k, v]) => {
      const s = summarize(v)
      return [k, {...s, documentsPerSecond: Math.round((generated.documents / s.median) * 1000)}]
    }),
  )
  const phases = JSON.parse(checkedRun(node, [path.join(root, 'bench/lib/phases.js'), project], 0))
  const result = {generated, kubeconform, cases: stats, phases}
  if (stats['kubeconform -strict']) {
    result.ratio = ratio(stats['dappmesh validate --json'].documentsPerSecond, stats['kubeconform -strict'].documentsPerSecond)
    if (result.ratio < GOALS.throughputVsKubeconform) {
      log('throughput: below kubeconform; profiling one run of dappmesh validate')
      result.profile = profile([cli, 'validate', project, '--json'], {root})
    }
  }
  return result
}

async function main() {
  const kindsModule = path.join(root, 'dist/core/model/kinds.js')
  if (!existsSync(kindsModule)) throw new BenchError('dist/ is missing: run `npm run build` first (npm run bench does)')
  const {KINDS, API_VERSION} = await import(kindsModule)
  const started = Date.now()
  const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-'))
  try {
    const up = startup()
    const tp = throughput(work, {KINDS, API_VERSION})
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: os.cpus().length,
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
      durationSeconds: Math.round((Date.now() - started) / 100) / 10,
      goals: {
        versionWithin: `${GOALS.versionVsNode}x node -e 0`,
        versionMet: up.cases['dappmesh --version'].ratio <= GOALS.versionVsNode,
        throughputAtLeast: `${GOALS.throughputVsKubeconform}x kubeconform`,
        throughputMet: tp.ratio === undefined ? null : tp.ratio >= GOALS.throughputVsKubeconform,
      },
      notes: [
        'Times are whole processes (spawn to exit), so start-up is included in throughput.',
        'kubeconform checks each document against its JSON Schema only; dappmesh validate also parses with source positions and runs the cross-resource rules (ref, cycle, contract, breaking, governance, duplicate, naming).',
        `kubeconform validates on 4 goroutines by default; dappmesh validate runs on one thread. The machine has ${os.cpus().length} cores.`,
      ],
      startup: up,
      throughput: tp,
    }
    writeFileSync(path.join(root, 'bench/results.json'), JSON.stringify(results, null, 2) + '\n')
    print(results)
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

function print(r) {
  const out = []
  out.push(`dappmesh bench — ${r.date}, node ${r.node}, ${r.cpus} cores, load ${r.loadAverage.join(' ')}`, '')
  out.push('Start-up (median of interleaved runs; ratio against node -e 0)')
  out.push(
    table(
      ['case', 'median', 'p25–p75', 'ratio', 'goal'],
      Object.entries(r.startup.cases).map(([name, s]) => [
        name,
        fmt(s.median),
        `${s.p25.toFixed(0)}–${s.p75.toFixed(0)}`,
        `${s.ratio.toFixed(2)}x`,
        name === 'dappmesh --version' ? `≤ ${GOALS.versionVsNode}x ${r.goals.versionMet ? 'met' : 'MISSED'}` : '',
      ]),
    ),
  )
  const tp = r.throughput
  out.push('', `Validation throughput: ${tp.generated.documents} documents in ${tp.generated.files} files (whole process, median)`)
  out.push(
    table(
      ['case', 'median', 'p25–p75', 'documents/s'],
      Object.entries(tp.cases).map(([name, s]) => [name, fmt(s.median), `${s.p25.toFixed(0)}–${s.p75.toFixed(0)}`, String(s.documentsPerSecond)]),
    ),
  )
  if (tp.ratio !== undefined) {
    out.push(`dappmesh / kubeconform throughput: ${tp.ratio.toFixed(2)}x (goal ≥ ${GOALS.throughputVsKubeconform}x: ${r.goals.throughputMet ? 'met' : 'MISSED'})`)
  } else {
    out.push(`kubeconform comparison skipped: ${tp.kubeconform.skipped}`)
  }
  const p = tp.phases
  out.push(
    `inside one process: imports ${fmt(p.importMs)}; cold load+parse ${fmt(p.cold.loadMs)}, rules ${fmt(p.cold.rulesMs)} (includes compiling validators); warm load+parse ${fmt(p.warm.loadMs)}, rules ${fmt(p.warm.rulesMs)}`,
  )
  if (tp.profile?.byPackage) {
    out.push(`profile of one run (${fmt(tp.profile.totalMs)}), self time by package: ${tp.profile.byPackage.map((b) => `${b.name} ${b.ms}`).join(', ')}`)
  }
  out.push('', ...r.notes.map((n) => `note: ${n}`), '', `wrote bench/results.json in ${r.durationSeconds} s`)
  process.stdout.write(out.join('\n') + '\n')
}

main().catch((error) => {
  log(error instanceof BenchError ? `bench failed: ${error.message}` : `bench failed: ${error.stack}`)
  process.exitCode = 1
})
