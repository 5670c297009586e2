/**
 * The data tests of a product, as files: `tests/<name>/inputs/<input-port>.<ext>` are the rows a
 * run reads, `tests/<name>/expect/<state>.<ext>` the rows a state must hold afterwards (ext: csv,
 * ndjson, jsonl, json, parquet). Like dbt's unit tests, a test's inputs are all its run reads.
 */
import {readdir, stat} from 'node:fs/promises'
import path from 'node:path'

import {UsageError} from '../errors.js'
import {type InputFormat, formatOfPath} from '../ingest/format.js'

export interface FixtureFile {
  /** The port or state the file is named after (its name without the extension). */
  name: string
  file: string
  /** Relative to the project, for messages: `tests/orders/expect/orders__clean.csv`. */
  label: string
  format: InputFormat
}

export interface DataTestFixture {
  name: string
  inputs: FixtureFile[]
  expects: FixtureFile[]
  /** What is wrong with the fixture's files; the test fails with it, before anything runs. */
  problem?: string
}

const HOW_TO_ADD = 'A data test is a directory tests/<name>/ holding inputs/<input-port>.csv (the rows the run reads) and expect/<state>.csv (the rows the state must hold); `dappmesh init` and `dappmesh add entity` write one per entity.'

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false
}

/** The files of inputs/ or expect/, or a problem with them. */
async function filesOf(root: string, test: string, sub: 'inputs' | 'expect'): Promise<FixtureFile[] | string> {
  const dir = path.join(root, 'tests', test, sub)
  if (!(await isDirectory(dir))) return []
  const out: FixtureFile[] = []
  for (const entry of (await readdir(dir)).sort()) {
    if (entry.startsWith('.')) continue
    const label = `tests/${test}/${sub}/${entry}`
    const format = formatOfPath(entry)
    if (!format) return `${label}: cannot tell its format; name it .csv, .ndjson, .jsonl, .json or .parquet`
    const name = entry.slice(0, entry.length - path.extname(entry).length)
    const twice = out.find((f) => f.name === name)
    if (twice) return `${label} and ${twice.label} are both for "${name}"; keep one`
    out.push({name, file: path.join(dir, entry), label, format})
  }
  return out
}

/** Every test under `<root>/tests/`, or those named in `only`; a usage error when there is none. */
export async function findDataTests(root: string, only: readonly string[] = []): Promise<DataTestFixture[]> {
  const testsDir = path.join(root, 'tests')
  if (!(await isDirectory(testsDir))) throw new UsageError(`no tests/ directory in ${root}: the product has no data tests`, [HOW_TO_ADD])
  const names = []
  for (const entry of (await readdir(testsDir)).sort()) {
    if (!entry.startsWith('.') && (await isDirectory(path.join(testsDir, entry)))) names.push(entry)
  }
  if (names.length === 0) throw new UsageError(`tests/ in ${root} holds no test directory`, [HOW_TO_ADD])
  for (const name of only) {
    if (!names.includes(name)) throw new UsageError(`--test ${name}: no data test tests/${name}/`, [`Tests: ${names.join(', ')}.`])
  }
  const fixtures: DataTestFixture[] = []
  for (const name of only.length > 0 ? names.filter((n) => only.includes(n)) : names) {
    const inputs = await filesOf(root, name, 'inputs')
    const expects = await filesOf(root, name, 'expect')
    const problem = typeof inputs === 'string' ? inputs : typeof expects === 'string' ? expects : expects.length === 0 ? `tests/${name}/expect/ holds no file: a test must expect something; add expect/<state>.csv with the rows the state must hold` : undefined
    fixtures.push({name, inputs: typeof inputs === 'string' ? [] : inputs, expects: typeof expects === 'string' ? [] : expects, ...(problem && {problem})})
  }
  return fixtures
}
