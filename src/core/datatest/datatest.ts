/**
 * `dappmesh test`: each data test runs the flows it concerns on its own inputs, in a throw-away
 * data directory (never the project's .dappmesh/data), and compares the states with its expect
 * files (compare.ts).
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {type PlannedState, type RunPlan, planRun} from '../engine/plan.js'
import {Engine} from '../engine/session.js'
import {rejectedStateTable} from '../engine/types.js'
import {isUserError} from '../errors.js'
import {RunInterrupted} from '../run/interrupted.js'
import type {RunResult} from '../run/result-schema.js'
import {runProduct} from '../run/run.js'
import type {StorageDriver} from '../storage/driver.js'
import {DRIVERS} from '../storage/registry.js'
import {loadValidProject} from '../validate/require-valid.js'
import {type StateComparison, compareState} from './compare.js'
import {type DataTestFixture, type FixtureFile, findDataTests} from './fixtures.js'
import type {DataTestResult, DataTestsResult} from './result-schema.js'

export interface DataTestOptions {
  dir: string
  /** Only these tests (names of directories under tests/). */
  tests?: readonly string[]
  signal?: AbortSignal
  /** Called as each test starts, for progress. */
  onTest?: (name: string) => void
  env?: NodeJS.ProcessEnv
}

const REJECTED = '__rejected'

/** The state an expect file is named after: `<state>` when only one flow has it, else `<schema>__<state>`; `…__rejected` for its quarantine. */
function resolveState(plan: RunPlan, name: string): {state: PlannedState; rejected: boolean} | string {
  const rejected = name.endsWith(REJECTED)
  const wanted = rejected ? name.slice(0, -REJECTED.length) : name
  const matches = [...plan.states.values()].filter((s) => s.table.table === wanted || s.state === wanted)
  const exact = matches.filter((s) => s.table.table === wanted)
  const found = exact.length === 1 ? exact : matches
  if (found.length === 1) return {state: found[0], rejected}
  const known = [...plan.states.values()].map((s) => s.table.table).join(', ')
  return found.length === 0 ? `no state "${wanted}" in this product's flows (states: ${known})` : `"${wanted}" is a state of several schemas; name the file after one of ${found.map((s) => s.table.table).join(', ')}`
}

/** The flows a test runs: those reading one of its input ports and those holding a state it expects. */
function flowsOf(plan: RunPlan, fixture: DataTestFixture, expected: PlannedState[]): string[] {
  const ports = new Set(fixture.inputs.map((i) => i.name))
  const refs = new Set(expected.map((s) => s.ref))
  const flows = new Set(plan.inputs.filter((i) => ports.has(i.port)).map((i) => i.flow))
  for (const t of plan.transitions) if (refs.has(t.to)) flows.add(t.flow)
  for (const i of plan.inputs) if (refs.has(i.state)) flows.add(i.flow)
  return plan.flows.filter((f) => flows.has(f))
}

/** Why a run did not pass, in one line: the failed step, or the contract rules that failed. */
function runFailure(run: RunResult): string {
  if (run.error) return `the run failed${run.error.transition ? ` at ${run.error.transition}` : ''}: ${run.error.message}`
  const rules = run.contracts.flatMap((c) => c.rules.filter((r) => r.passed === false).map((r) => `${c.contract}: ${r.rule}${r.value === null ? '' : ` (value ${r.value})`}`))
  return `the run failed its contract checks: ${rules.join('; ') || 'see dappmesh run'}`
}

export async function runDataTests(options: DataTestOptions): Promise<DataTestsResult> {
  const {context} = await loadValidProject(options.dir, 'no data test was run')
  const root = path.resolve(options.dir)
  const plan = planRun(context, root)
  const fixtures = await findDataTests(root, options.tests)
  const tests: DataTestResult[] = []
  for (const fixture of fixtures) {
    if (options.signal?.aborted) throw new RunInterrupted()
    options.onTest?.(fixture.name)
    tests.push(await runOne(root, plan, fixture, options))
  }
  const passed = tests.filter((t) => t.passed).length
  return {ok: passed === tests.length, dir: root, passed, failed: tests.length - passed, tests}
}

async function runOne(root: string, plan: RunPlan, fixture: DataTestFixture, options: DataTestOptions): Promise<DataTestResult> {
  const started = Date.now()
  const done = (result: Omit<DataTestResult, 'name' | 'ms'>): DataTestResult => ({name: fixture.name, ms: Date.now() - started, ...result})
  if (fixture.problem) return done({passed: false, error: fixture.problem, states: []})
  const expects: Array<{file: FixtureFile; state: PlannedState; rejected: boolean}> = []
  for (const file of fixture.expects) {
    const resolved = resolveState(plan, file.name)
    if (typeof resolved === 'string') return done({passed: false, error: `${file.label}: ${resolved}`, states: []})
    expects.push({file, ...resolved})
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), `dappmesh-test-${fixture.name}-`))
  try {
    let run: RunResult
    try {
      run = await runProduct({
        dir: root,
        inputs: new Map(fixture.inputs.map((i) => [i.name, i.file])),
        inputsOnly: true,
        flows: flowsOf(plan, fixture, expects.map((e) => e.state)),
        dataDir,
        signal: options.signal,
        env: options.env,
      })
    } catch (error) {
      if (error instanceof RunInterrupted || !isUserError(error)) throw error
      return done({passed: false, error: error.message, states: []})
    }
    if (!run.ok) return done({passed: false, error: runFailure(run), states: []})
    const states = await compareAll(plan, dataDir, expects, options)
    return done({passed: states.every((s) => s.passed), states})
  } finally {
    await rm(dataDir, {recursive: true, force: true})
  }
}

/** Reads each expected state from the test's storage and compares it, in one engine session. */
async function compareAll(plan: RunPlan, dataDir: string, expects: Array<{file: FixtureFile; state: PlannedState; rejected: boolean}>, options: DataTestOptions): Promise<StateComparison[]> {
  const engine = await Engine.open()
  const drivers = new Map<string, StorageDriver>()
  try {
    const out: StateComparison[] = []
    for (const [i, e] of expects.entries()) {
      let driver = drivers.get(e.state.storage.name)
      if (!driver) {
        driver = (await DRIVERS[e.state.storage.engine]())({storage: e.state.storage, product: plan.product, dataDir, engine, env: options.env ?? process.env})
        drivers.set(e.state.storage.name, driver)
        await driver.open()
      }
      const table = e.rejected ? rejectedStateTable(e.state.table) : e.state.table
      out.push(await compareState(engine, table, await driver.readState(table), e.file, String(i)))
    }
    return out
  } finally {
    for (const d of drivers.values()) await d.close().catch(() => {})
    await engine.close()
  }
}
