import {resolve} from 'node:path'

import {type PlannedState, planRun} from '../engine/plan.js'
import {Engine} from '../engine/session.js'
import {type StateTable, quoteIdent, rejectedStateTable} from '../engine/types.js'
import {UsageError} from '../errors.js'
import {createDriver, requireDriver} from '../storage/registry.js'
import {loadValidProject} from '../validate/require-valid.js'
import {defaultDataDir} from './run.js'

export interface ReadStateOptions {
  dir: string
  /** A state ref (`orders@1.1.0/clean`) or a bare state name when it is unambiguous; `<state>__rejected` reads its quarantine. */
  state: string
  dataDir?: string
  /** At most this many rows (default: all). */
  limit?: number
  env?: NodeJS.ProcessEnv
}

export interface StateRows {
  ref: string
  /** The state's columns, in declaration order. */
  columns: string[]
  /** JSON-compatible values: numbers beyond 2^53, decimals and timestamps as strings. */
  rows: Array<Record<string, unknown>>
  /** false when the state was never published (rows is then empty). */
  published: boolean
}

/** The published rows of a state, after a run (for `dappmesh test` and for tests). */
export async function readStateRows(options: ReadStateOptions): Promise<StateRows> {
  const {context} = await loadValidProject(options.dir, 'no state was read')
  const root = resolve(options.dir)
  const plan = planRun(context, root)
  const rejected = options.state.endsWith('__rejected')
  const wanted = rejected ? options.state.slice(0, -'__rejected'.length) : options.state
  const matches = [...plan.states.values()].filter((s) => s.ref === wanted || s.state === wanted || s.table.table === wanted)
  if (matches.length !== 1) {
    const known = [...plan.states.keys()].join(', ')
    throw new UsageError(matches.length === 0 ? `no state "${wanted}" in this product's flows` : `state "${wanted}" is ambiguous: ${matches.map((m) => m.ref).join(', ')}`, [`States: ${known}.`])
  }
  const state: PlannedState = matches[0]
  const table: StateTable = rejected ? rejectedStateTable(state.table) : state.table
  requireDriver(state.storage)
  const engine = await Engine.open()
  const driver = await createDriver({
    storage: state.storage,
    product: plan.product,
    dataDir: options.dataDir ?? defaultDataDir(root),
    engine,
    env: options.env ?? process.env,
  })
  try {
    await driver.open()
    const relation = await driver.readState(table)
    const columns = table.columns.map((c) => c.name)
    if (!relation) return {ref: table.ref, columns, rows: [], published: false}
    const limit = options.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(options.limit))}`
    const rows = await engine.rows(`SELECT ${columns.map(quoteIdent).join(', ')} FROM ${relation}${limit}`)
    return {ref: table.ref, columns, rows, published: true}
  } finally {
    await driver.close().catch(() => {})
    await engine.close()
  }
}
