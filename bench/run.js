#!/usr/bin/env node
// `npm run bench` (after `npm run build`): start-up against `node -e 0`, and validation throughput
// against kubeconform, each measured against its reference in the same run, interleaved, and
// summarised by medians. Prints a table and writes bench/results.json. Missing a goal is a result,
// not a failure: the exit code is non-zero only when the bench itself cannot run.
//
// Knobs (environment): BENCH_STARTUP_RUNS (default 20), BENCH_THROUGHPUT_RUNS (7),
// BENCH_DOCUMENTS (1000), BENCH_DOCUMENTS_LARGE (5000, for the cost per document after start-up),
// DAPPMESH_KUBECONFORM (a kubeconform binary to use instead of building one).
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {generateProject} from './lib/generate.js'
import {ensureKubeconform, exportSchemas, parseSummary} from './lib/kubeconform.js'
import {BenchError, interleave, mean, summarize} from './lib/measure.js'
import {profile} from './lib/profile.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const node = process.execPath
const intEnv = (name, fallback) => (process.env[name] ? Math.max(1, Number.parseInt(process.env[name], 10)) : fallback)
const STARTUP_RUNS = intEnv('BENCH_STARTUP_RUNS', 20)
const THROUGHPUT_RUNS = intEnv('BENCH_THROUGHPUT_RUNS', 7)
const DOCUMENTS = intEnv('BENCH_DOCUMENTS', 1000)
const DOCUMENTS_LARGE = intEnv('BENCH_DOCUMENTS_LARGE', 5000)
const GOALS = {versionVsNode: 1.5, throughputVsKubeconform: 1, validateSqlVsNode: 3, validateVsNode: 3}

const log = (line) => process.stderr.write(`${line}\n`)
const fmt = (ms) => `${ms.toFixed(1)} ms`
const ratio = (a, b) => Math.round((a / b) * 100) / 100

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** The environment of every measured process: no colours, and caches (SQL binds, V8 code) of this run's own, filled by the warm-up runs. */
function benchEnv(work) {
  return {...process.env, NO_COLOR: '1', DAPPMESH_CACHE: path.join(work, 'cache')}
}

/** The names of the cases of `validate examples/orders`, whose sql rule binds the example's SQL in DuckDB. */
const SQL_FIRST_RUN = 'dappmesh validate examples/orders, first run'
const SQL_CACHED = 'dappmesh validate examples/orders, cached'

/**
 * GNU dd drops a file's pages from the page cache with `iflag=nocache count=0` (posix_fadvise
 * DONTNEED): the state after a reboot, for that file alone. Returns undefined where it cannot.
 */
function pageCacheDropper(file) {
  const drop = () => spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']).status === 0
  return existsSync(file) && drop() ? drop : undefined
}

function startup(work) {
  const env = benchEnv(work)
  const orders = ['validate', path.join(root, 'examples/orders')]
  // A first run after installing dappmesh: no V8 code cache and no SQL binds remembered, so the
  // bundle and validators are compiled and DuckDB is loaded, opened and binds every transition;
  // the run then writes both caches, as a user's would. The files themselves are in the page
  // cache, as they are right after `npm install` wrote them.
  const firstRun = path.join(work, 'first-run-cache')
  const emptyCache = () => rmSync(firstRun, {recursive: true, force: true})
  const libduckdb = path.join(root, 'node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so')
  const dropDuckdb = process.platform === 'linux' && process.arch === 'x64' ? pageCacheDropper(libduckdb) : undefined
  const cases = [
    {name: 'node -e 0', command: node, args: ['-e', '0'], env},
    {name: 'dappmesh --version', command: node, args: [cli, '--version'], env},
    {name: 'dappmesh --help', command: node, args: [cli, '--help'], env},
    {name: SQL_FIRST_RUN, command: node, args: [cli, ...orders], env: {...env, DAPPMESH_CACHE: firstRun}, before: emptyCache},
    // Every later run: the bind cache answers the unchanged SQL (DuckDB is not loaded) and V8
    // starts from the code it compiled before (the caches of this bench's own, filled by the warm-up).
    {name: SQL_CACHED, command: node, args: [cli, ...orders], env},
    // A run after the SQL changed: the code cache is warm, DuckDB is loaded and binds every time.
    {name: 'dappmesh validate examples/orders, SQL changed', command: node, args: [cli, ...orders], env: {...env, DAPPMESH_SQL_CACHE: 'off'}},
  ]
  if (dropDuckdb) {
    // The first run after a reboot, as far as DuckDB goes: its 68 MB library is read from disk.
    cases.push({name: `${SQL_FIRST_RUN}, DuckDB not in the page cache`, command: node, args: [cli, ...orders], env: {...env, DAPPMESH_CACHE: firstRun}, before: () => (emptyCache(), dropDuckdb())})
  }
  log(`start-up: ${cases.length} cases x ${STARTUP_RUNS} runs, interleaved`)
  const cpu = {}
  const samples = interleave(cases, {runs: STARTUP_RUNS, warmup: 2, cpu})
  const stats = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {...summarize(v), cpuMeanMs: mean(cpu[k])}]))
  const ref = stats['node -e 0']
  return {
    reference: 'node -e 0',
    duckdbDroppedFromPageCache: Boolean(dropDuckdb),
    cases: Object.fromEntries(Object.entries(stats).map(([k, s]) => [k, {...s, ratio: ratio(s.median, ref.median), cpuRatio: s.cpuMeanMs && ref.cpuMeanMs ? ratio(s.cpuMeanMs, ref.cpuMeanMs) : undefined}])),
  }
}

function checkedRun(command, args, expectExit) {
  const r = spawnSync(command, args, {encoding: 'utf8', maxBuffer: 256 * 1024 * 1024})
  if (r.error) throw new BenchError(`${command}: ${r.error.message}`)
  if (r.status !== expectExit) throw new BenchError(`${command} ${args.join(' ')} exited ${r.status}:\n${(r.stdout + r.stderr).slice(0, 3000)}`)
  return r.stdout
}

/** Generates a valid project of at least `documents` documents and checks that both tools agree it is valid. */
function prepare(work, name, documents, kc, {KINDS, API_VERSION}) {
  const project = path.join(work, name)
  const generated = generateProject(project, documents)
  log(`throughput: generated ${generated.documents} documents in ${generated.files} files (${generated.products} products)`)
  // Both answers first: the generated project must be valid, or the comparison means nothing.
  const ours = JSON.parse(checkedRun(node, [cli, 'validate', project, '--json'], 0))
  if (!ours.valid || ours.resources !== generated.documents) {
    throw new BenchError(`dappmesh validate did not find ${generated.documents} valid resources: ${JSON.stringify({valid: ours.valid, resources: ours.resources, findings: ours.findings?.slice(0, 3)})}`)
  }
  const env = benchEnv(work)
  const cases = [{name: `dappmesh validate --json, ${generated.documents} docs`, tool: 'dappmesh', documents: generated.documents, command: node, args: [cli, 'validate', project, '--json'], env}]
  let summary
  if (kc.binary) {
    const location = exportSchemas(KINDS, path.join(work, 'schemas'), API_VERSION)
    const args = ['-strict', '-summary', '-schema-location', location, project]
    summary = parseSummary(checkedRun(kc.binary, args, 0))
    if (!summary || summary.valid !== generated.documents) throw new BenchError(`kubeconform did not find ${generated.documents} valid resources: ${JSON.stringify(summary)}`)
    cases.push({name: `kubeconform -strict, ${generated.documents} docs`, tool: 'kubeconform', documents: generated.documents, command: kc.binary, args})
  }
  return {project, generated, cases, kubeconformSummary: summary}
}

function throughput(work, kinds) {
  const kc = ensureKubeconform(log)
  if (!kc.binary) log(`kubeconform skipped: ${kc.skipped}`)
  const main = prepare(work, 'project', DOCUMENTS, kc, kinds)
  const large = prepare(work, 'large', DOCUMENTS_LARGE, kc, kinds)
  // Node's own start-up in the same rounds: the ratio that says what validating costs beyond it.
  const cases = [{name: 'node -e 0', tool: 'node', documents: 0, command: node, args: ['-e', '0']}, ...main.cases, ...large.cases]
  log(`throughput: ${cases.length} cases x ${THROUGHPUT_RUNS} runs, interleaved`)
  const cpu = {}
  const samples = interleave(cases, {runs: THROUGHPUT_RUNS, warmup: 1, cpu})
  const stats = {}
  for (const c of cases) {
    const s = summarize(samples[c.name])
    stats[c.name] = {tool: c.tool, documents: c.documents, ...s, cpuMeanMs: mean(cpu[c.name]), documentsPerSecond: Math.round((c.documents / s.median) * 1000)}
  }
  const reference = stats['node -e 0']
  for (const s of Object.values(stats)) {
    s.ratioToNode = ratio(s.median, reference.median)
    s.cpuRatioToNode = s.cpuMeanMs && reference.cpuMeanMs ? ratio(s.cpuMeanMs, reference.cpuMeanMs) : undefined
  }
  const of = (tool, size) => Object.values(stats).find((s) => s.tool === tool && s.documents === size.generated.documents)
  // What one more document costs once start-up is paid: the slope between the two sizes.
  const marginal = (tool) => {
    const a = of(tool, main)
    const b = of(tool, large)
    return a && b && b.median > a.median ? Math.round(((b.documents - a.documents) / (b.median - a.median)) * 1000) : undefined
  }
  const phases = JSON.parse(checkedRun(node, [path.join(root, 'bench/lib/phases.js'), main.project], 0))
  const result = {
    generated: main.generated,
    large: large.generated,
    kubeconform: kc.binary ? {binary: kc.binary, version: kc.version, summary: main.kubeconformSummary} : {skipped: kc.skipped},
    precompiledValidators: existsSync(path.join(root, 'dist/core/validate/validators.generated.cjs')),
    cases: stats,
    marginalDocumentsPerSecond: {dappmesh: marginal('dappmesh'), kubeconform: marginal('kubeconform')},
    phases,
  }
  result.validateVsNode = of('dappmesh', main).ratioToNode
  result.validateCpuVsNode = of('dappmesh', main).cpuRatioToNode
  if (kc.binary) {
    result.ratio = ratio(of('dappmesh', main).documentsPerSecond, of('kubeconform', main).documentsPerSecond)
    result.ratioLarge = ratio(of('dappmesh', large).documentsPerSecond, of('kubeconform', large).documentsPerSecond)
    // CPU time per run, kubeconform's over dappmesh's: above 1, dappmesh spends less CPU on the same project.
    const cpuOf = (tool, size) => of(tool, size).cpuMeanMs
    if (cpuOf('dappmesh', main) && cpuOf('kubeconform', main)) {
      result.cpuRatio = ratio(cpuOf('kubeconform', main), cpuOf('dappmesh', main))
      result.cpuRatioLarge = ratio(cpuOf('kubeconform', large), cpuOf('dappmesh', large))
    }
    if (result.ratio < GOALS.throughputVsKubeconform) {
      log('throughput: below kubeconform; profiling one run of dappmesh validate')
      result.profile = profile([cli, 'validate', main.project, '--json'], {root})
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
    const up = startup(work)
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
        validateSqlWithin: `${GOALS.validateSqlVsNode}x node -e 0 on a first run (no caches)`,
        validateSqlMet: up.cases[SQL_FIRST_RUN].ratio <= GOALS.validateSqlVsNode,
        validateSqlCachedRatio: up.cases[SQL_CACHED].ratio,
        validateWithin: `${GOALS.validateVsNode}x node -e 0 at ${DOCUMENTS} documents`,
        validateMet: tp.validateVsNode <= GOALS.validateVsNode,
        throughputAtLeast: `${GOALS.throughputVsKubeconform}x kubeconform`,
        throughputMet: tp.ratio === undefined ? null : tp.ratio >= GOALS.throughputVsKubeconform,
      },
      notes: [
        'Times are whole processes (spawn to exit), so start-up is included in throughput. CPU is user + system time of the process and its threads (Linux /proc, 10 ms ticks, mean of the runs): on a machine shared with other work it varies far less than wall time, which then mostly measures the others.',
        'kubeconform checks each document against its JSON Schema only; dappmesh validate also runs the cross-resource rules (ref, cycle, contract, breaking, governance, duplicate, naming), and reads a project with source positions (again) only when it has findings.',
        `kubeconform validates on 4 goroutines by default; dappmesh validate reads a project of 600 files or more on its idle cores too (os.loadavg decides), else on one thread. The machine has ${os.cpus().length} cores; load average at the end ${os.loadavg()[0].toFixed(2)}.`,
        'dappmesh validate with plain arguments runs without loading oclif, from one bundled file compiled from V8\'s code cache (scripts/bundle.js, src/core/code-cache.ts); the caches of this run start empty and are filled by the warm-up runs.',
        `validate examples/orders: "first run" starts every run with an empty cache directory (no V8 code cache, no SQL binds remembered: a user's first run after installing), with the files in the page cache as npm install leaves them; "cached" is every later run with unchanged SQL (DuckDB is not loaded); "SQL changed" loads DuckDB with the code cache warm.${up.duckdbDroppedFromPageCache ? ' "DuckDB not in the page cache" drops its library from the page cache before each run (dd iflag=nocache), as after a reboot.' : ''}`,
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
      ['case', 'median', 'p25–p75', 'ratio', 'CPU (mean)', 'CPU ratio', 'goal'],
      Object.entries(r.startup.cases).map(([name, s]) => [
        name,
        fmt(s.median),
        `${s.p25.toFixed(0)}–${s.p75.toFixed(0)}`,
        `${s.ratio.toFixed(2)}x`,
        s.cpuMeanMs === undefined ? 'n/a' : fmt(s.cpuMeanMs),
        s.cpuRatio === undefined ? 'n/a' : `${s.cpuRatio.toFixed(2)}x`,
        name === 'dappmesh --version'
          ? `≤ ${GOALS.versionVsNode}x ${r.goals.versionMet ? 'met' : 'MISSED'}`
          : name === SQL_FIRST_RUN
            ? `≤ ${GOALS.validateSqlVsNode}x ${r.goals.validateSqlMet ? 'met' : 'MISSED'}`
            : '',
      ]),
    ),
  )
  const tp = r.throughput
  out.push('', `Validation throughput (whole process, median of interleaved runs)`)
  out.push(
    table(
      ['case', 'median', 'p25–p75', 'vs node -e 0', 'CPU (mean)', 'CPU vs node', 'documents/s'],
      Object.entries(tp.cases).map(([name, s]) => [
        name,
        fmt(s.median),
        `${s.p25.toFixed(0)}–${s.p75.toFixed(0)}`,
        `${s.ratioToNode.toFixed(2)}x`,
        s.cpuMeanMs === undefined ? 'n/a' : fmt(s.cpuMeanMs),
        s.cpuRatioToNode === undefined ? 'n/a' : `${s.cpuRatioToNode.toFixed(2)}x`,
        s.documents ? String(s.documentsPerSecond) : '',
      ]),
    ),
  )
  if (tp.ratio !== undefined) {
    out.push(`dappmesh / kubeconform throughput at ${tp.generated.documents} documents: ${tp.ratio.toFixed(2)}x (goal ≥ ${GOALS.throughputVsKubeconform}x: ${r.goals.throughputMet ? 'met' : 'MISSED'}); at ${tp.large.documents}: ${tp.ratioLarge.toFixed(2)}x`)
  } else {
    out.push(`kubeconform comparison skipped: ${tp.kubeconform.skipped}`)
  }
  out.push(`dappmesh validate of ${tp.generated.documents} documents: ${tp.validateVsNode.toFixed(2)}x node -e 0 (goal ≤ ${GOALS.validateVsNode}x: ${r.goals.validateMet ? 'met' : 'MISSED'})${tp.validateCpuVsNode ? `; in CPU time ${tp.validateCpuVsNode.toFixed(2)}x` : ''}`)
  if (tp.cpuRatio !== undefined) out.push(`CPU time, kubeconform's over dappmesh's (above 1: dappmesh spends less): ${tp.cpuRatio.toFixed(2)}x at ${tp.generated.documents} documents, ${tp.cpuRatioLarge.toFixed(2)}x at ${tp.large.documents}`)
  const m = tp.marginalDocumentsPerSecond
  out.push(`documents/s once start-up is paid (slope between the two sizes): dappmesh ${m.dappmesh ?? 'n/a'}, kubeconform ${m.kubeconform ?? 'n/a'}`)
  const p = tp.phases
  out.push(
    `inside one process (${tp.generated.documents} docs): imports ${fmt(p.importMs)}; cold load+parse ${fmt(p.cold.loadMs)}, rules ${fmt(p.cold.rulesMs)}; warm load+parse ${fmt(p.warm.loadMs)}, rules ${fmt(p.warm.rulesMs)}` +
      (p.precise ? `; with source positions (the path taken on a finding): warm load+parse ${fmt(p.precise.warm.loadMs)}, rules ${fmt(p.precise.warm.rulesMs)}` : ''),
  )
  out.push(`validators precompiled at build time: ${tp.precompiledValidators ? 'yes' : 'no (dist/core/validate/validators.generated.cjs missing; they are compiled on every run)'}`)
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
