import type {Workspace} from '../storage/driver.js'
import {type Key, stateKeys} from './keys.js'
import type {Engine} from './session.js'
import {isInterruption} from '../run/interrupted.js'
import {REJECTED_COLUMNS, type StateColumn, type StateTable, quoteIdent, quoteLiteral} from './types.js'

/** The row number column an ingestion source may carry (1-based, in file order) for messages. */
export const ROW_COLUMN = '_dm_row'
const REASON = '_dm_reason'
const RAW = '_dm_raw'

export interface ColumnMismatch {
  missing: string[]
  extra: string[]
}

/** Columns a relation has that the state lacks and the other way round (names compare as DuckDB does: ignoring case). */
export function compareColumns(actual: readonly string[], state: StateTable): ColumnMismatch | undefined {
  const have = new Set(actual.filter((c) => c !== ROW_COLUMN).map((c) => c.toLowerCase()))
  const want = new Set(state.columns.map((c) => c.name.toLowerCase()))
  const missing = state.columns.map((c) => c.name).filter((c) => !have.has(c.toLowerCase()))
  const extra = actual.filter((c) => c !== ROW_COLUMN && !want.has(c.toLowerCase()))
  return missing.length > 0 || extra.length > 0 ? {missing, extra} : undefined
}

export function describeMismatch(m: ColumnMismatch): string {
  const parts = []
  if (m.missing.length > 0) parts.push(`missing column${m.missing.length === 1 ? '' : 's'} ${m.missing.join(', ')}`)
  if (m.extra.length > 0) parts.push(`extra column${m.extra.length === 1 ? '' : 's'} ${m.extra.join(', ')}`)
  return parts.join(' and ')
}

/**
 * TRY_CAST, with a fast path for text into DECIMAL(38,9): DuckDB parses text into a 38-digit
 * decimal through 128-bit arithmetic, ~50× slower than into 18 digits, so the 18-digit cast is
 * tried first and the wide one only where it fails (COALESCE evaluates it for those rows only).
 */
export function tryCast(expression: string, type: string, from: string): string {
  if (type === 'DECIMAL(38,9)' && !from.startsWith('DECIMAL')) {
    return `CAST(COALESCE(TRY_CAST(${expression} AS DECIMAL(18,9)), TRY_CAST(${expression} AS DECIMAL(38,9))) AS DECIMAL(38,9))`
  }
  return `TRY_CAST(${expression} AS ${type})`
}

export interface EnforceOptions {
  /** Names the rows in reasons: a SQL expression of the row (e.g. `'data/x.csv line ' || (_dm_row + 1)`); none for computed states. */
  rowLabel?: string
  transition: string
  run: string
  /**
   * Build the checked rows as tables here (a storage's workspace, or the engine's memory) rather
   * than as views over a scratch table: `staged` is then a table holding exactly the state's
   * columns and valid rows, which the storage can publish without copying it.
   */
  into?: Workspace
  /**
   * Keys of the state (column names, as `stateKeys` lists them) that the caller has proven hold
   * without looking (`keysKeptBy`: a filter or a lookup join of states this run checked). The fast
   * path does not look for their repeats unless a column of theirs needs a cast (which may make
   * two values equal); the row-by-row path checks every key.
   */
  provenKeys?: readonly Key[]
  /**
   * The rows of `source` without its row number, when reading them without it is cheaper (a CSV
   * file: see FileRelations in ingest/read.ts). The fast path reads this; the row-by-row path,
   * which names rows in its reasons, reads `source`.
   */
  plainSource?: string
}

export interface Enforced {
  /** A view (a table with `into`) of the rows that satisfy the state's schema, with its exact columns and types. */
  staged: string
  /** A view (a table with `into`) of the rejected rows: the state's columns as text, plus `_reason`, `_transition`, `_run`. */
  rejected: string
  rowsIn: number
  rowsOut: number
  rowsRejected: number
  /** The first few reasons, for the run's report. */
  reasons: string[]
  /**
   * Milliseconds the checks took beyond writing the rows: looking for repeated keys; when a row
   * broke a rule, all of the row-by-row pass (and the attempt before it). Casts and required
   * fields are checked as the rows are written and are not in it.
   */
  checkMs: number
}

/**
 * Checks every row of `source` against a state (§7): values are cast to the field types (a value
 * that does not cast rejects its row), `required` fields must hold a value, `primaryKey` and
 * `unique` fields must not repeat (the first row in input order is kept). The caller has made sure
 * the columns match (`compareColumns`).
 *
 * With `into`, the common case of data that breaks no rule costs about what writing it costs: the
 * state is built in one statement with strict casts and required fields that raise an error on
 * the first bad row, then a hash aggregate looks for a repeated key. Only when either finds a
 * problem does the row-by-row path below run, which sorts out each rejected row and its reason
 * (see `enforceFast`).
 */
export async function enforceSchema(engine: Engine, source: string, state: StateTable, name: string, options: EnforceOptions): Promise<Enforced> {
  const described = await engine.rows<{column_name: string; column_type: string}>(`DESCRIBE SELECT * FROM ${source}`)
  const typeOf = new Map(described.map((d) => [d.column_name.toLowerCase(), d.column_type]))
  const started = performance.now()
  if (options.into) {
    const fast = await enforceFast(engine, options.plainSource ?? source, state, name, options.into, typeOf, options.provenKeys ?? [])
    if (fast) return fast
  }
  const enforced = await enforceRowByRow(engine, source, state, name, options, typeOf)
  return {...enforced, checkMs: Math.round(performance.now() - started)}
}

/** Whether a column of the source must be cast to the state's type (casting is skipped for a column that already has it). */
function castNeeded(c: StateColumn, typeOf: ReadonlyMap<string, string>): boolean {
  const from = typeOf.get(c.name.toLowerCase())
  return from !== c.type && !(c.type === 'JSON' && from === 'JSON')
}

/**
 * The fast path: builds `target` holding the source's rows with the state's exact columns and
 * types, assuming every row is valid, and proves it. Strict CASTs raise an error where a TRY_CAST
 * would give NULL, and a required field raises one on its first NULL (DuckDB's `error()` in a CASE
 * runs for that row only), so any bad value fails the statement; then one hash aggregate per key
 * (parallel, and it does not spill at the sizes a sort would) looks for a repeated one. Returns
 * undefined, with `target` dropped, when some row breaks a rule: the caller then runs the
 * row-by-row path, which reads the source again. An interruption is rethrown, not retried.
 */
async function enforceFast(
  engine: Engine,
  source: string,
  state: StateTable,
  name: string,
  into: Workspace,
  typeOf: ReadonlyMap<string, string>,
  proven: readonly Key[],
): Promise<Enforced | undefined> {
  const target = into.table(`chk_${name}`)
  const columns = state.columns.map((c) => {
    const col = quoteIdent(c.name)
    const value = castNeeded(c, typeOf) ? strictCast(col, c.type, typeOf.get(c.name.toLowerCase()) ?? '') : col
    return `${c.required ? `CASE WHEN ${col} IS NULL THEN error('required') ELSE ${value} END` : value} AS ${col}`
  })
  const column = new Map(state.columns.map((c) => [c.name, c]))
  const isProven = (key: Key) => proven.some((p) => p.join('\0') === key.join('\0')) && key.every((k) => !castNeeded(column.get(k)!, typeOf))
  const keys = stateKeys(state).filter((key) => !isProven(key))
  try {
    const rows = await engine.count(`CREATE OR REPLACE TABLE ${target} AS SELECT ${columns.join(', ')} FROM ${source}`)
    const checking = performance.now()
    if (keys.length > 0) {
      const repeated = keys.map((key) => {
        const list = key.map(quoteIdent).join(', ')
        // A unique field may be empty in many rows; a primary key is required, so never empty here.
        const where = ` WHERE ${key.map((k) => `${quoteIdent(k)} IS NOT NULL`).join(' AND ')}`
        // Grouped by the key's 64-bit hash, not the key: the hash table holds 8 bytes a row
        // however long the key (~2.5× less CPU than long text ids, no spill under a memory limit). Two
        // keys that only share a hash look like a repeat and send the rows to the exact
        // row-by-row path, which costs time, never a wrong answer.
        return `EXISTS (SELECT 1 FROM ${target}${where} GROUP BY hash(${list}) HAVING count(*) > 1)`
      })
      if ((await engine.count(`SELECT CAST(${repeated.join(' OR ')} AS INTEGER)`)) > 0) {
        await engine.run(`DROP TABLE IF EXISTS ${target}`)
        return undefined
      }
    }
    // No row is rejected: the quarantine relation exists all the same, empty, as the caller may read it.
    const rejected = into.table(`rej_${name}`)
    const text = state.columns.map((c) => `CAST(${quoteIdent(c.name)} AS VARCHAR) AS ${quoteIdent(c.name)}`)
    const marks = REJECTED_COLUMNS.map((c) => `CAST(NULL AS VARCHAR) AS ${c}`)
    await engine.run(`CREATE OR REPLACE TABLE ${rejected} AS SELECT ${[...text, ...marks].join(', ')} FROM ${target} LIMIT 0`)
    return {staged: target, rejected, rowsIn: rows, rowsOut: rows, rowsRejected: 0, reasons: [], checkMs: Math.round(performance.now() - checking)}
  } catch (error) {
    if (isInterruption(error)) throw error
    await engine.run(`DROP TABLE IF EXISTS ${target}`)
    return undefined
  }
}

/** CAST that fails on a value TRY_CAST would turn into NULL; into DECIMAL(38,9) through 18 digits first, as `tryCast`. */
function strictCast(expression: string, type: string, from: string): string {
  if (type === 'DECIMAL(38,9)' && !from.startsWith('DECIMAL')) {
    return `CAST(COALESCE(TRY_CAST(${expression} AS DECIMAL(18,9)), CAST(${expression} AS DECIMAL(38,9))) AS DECIMAL(38,9))`
  }
  return `CAST(${expression} AS ${type})`
}

/**
 * The row-by-row path, in one pass: every row gets the reasons it breaks a rule, a window over
 * each key finds the repeats, and the rows with a reason go to the rejected relation.
 */
async function enforceRowByRow(
  engine: Engine,
  source: string,
  state: StateTable,
  name: string,
  options: EnforceOptions,
  typeOf: ReadonlyMap<string, string>,
): Promise<Omit<Enforced, 'checkMs'>> {
  const hasRow = typeOf.has(ROW_COLUMN)
  const label = options.rowLabel && hasRow ? `${options.rowLabel} || ': ' || ` : ''
  const needsCast = (c: StateColumn) => castNeeded(c, typeOf)
  const col = (c: StateColumn) => quoteIdent(c.name)
  const cast = (c: StateColumn) => (needsCast(c) ? tryCast(col(c), c.type, typeOf.get(c.name.toLowerCase()) ?? '') : col(c))

  const checks: string[] = []
  for (const c of state.columns) {
    if (needsCast(c)) {
      checks.push(`CASE WHEN ${col(c)} IS NOT NULL AND ${cast(c)} IS NULL THEN ${quoteLiteral(`${c.name}: "`)} || left(CAST(${col(c)} AS VARCHAR), 80) || ${quoteLiteral(`" is not a valid ${c.type}`)} END`)
    }
    if (c.required) checks.push(`CASE WHEN ${col(c)} IS NULL THEN ${quoteLiteral(`${c.name}: required, but empty`)} END`)
  }
  const reason = checks.length > 0 ? `NULLIF(concat_ws('; ', ${checks.join(', ')}), '')` : 'CAST(NULL AS VARCHAR)'
  const columns = state.columns.map((c) => `${cast(c)} AS ${col(c)}`)
  const raw = `CASE WHEN ${REASON} IS NOT NULL THEN [${state.columns.map((c) => `CAST(${col(c)} AS VARCHAR)`).join(', ')}] END AS ${RAW}`
  const order = hasRow ? ` ORDER BY ${ROW_COLUMN}` : ''

  // Keys: a later row repeating a key is rejected; only rows valid so far take part.
  const keyChecks: string[] = []
  if (state.primaryKey.length > 0) {
    const key = state.primaryKey.map(quoteIdent).join(', ')
    const shown = state.primaryKey.map((k) => `${quoteLiteral(`${k}=`)} || CAST(${quoteIdent(k)} AS VARCHAR)`).join(` || ', ' || `)
    keyChecks.push(`WHEN row_number() OVER (PARTITION BY ${key}, ${REASON} IS NULL${order}) > 1 THEN 'duplicate primary key (' || ${shown} || ')'`)
  }
  for (const c of state.columns.filter((x) => x.unique && !x.primaryKey)) {
    keyChecks.push(`WHEN ${col(c)} IS NOT NULL AND row_number() OVER (PARTITION BY ${col(c)}, ${REASON} IS NULL${order}) > 1 THEN ${quoteLiteral(`${c.name}: duplicate value `)} || CAST(${col(c)} AS VARCHAR) || ' of a unique field'`)
  }
  const finalReason = keyChecks.length > 0 ? `CASE WHEN ${REASON} IS NOT NULL THEN ${REASON} ${keyChecks.join(' ')} END` : REASON

  const checked = options.into ? options.into.table(`chk_${name}`) : `_dm_chk_${name}`
  const rowSelect = hasRow ? `, ${ROW_COLUMN}` : ''
  await engine.run(`CREATE OR REPLACE TABLE ${checked} AS
    WITH r AS (SELECT *, ${reason} AS ${REASON} FROM ${source}),
    c AS (SELECT ${columns.join(', ')}, ${REASON}, ${raw}${rowSelect} FROM r)
    SELECT * EXCLUDE (${REASON}), CASE WHEN ${finalReason} IS NOT NULL THEN ${label}${finalReason} END AS ${REASON} FROM c`)

  const [counts] = await engine.rows<{ok: string | number; bad: string | number}>(
    `SELECT count(*) FILTER (WHERE ${REASON} IS NULL) AS ok, count(*) FILTER (WHERE ${REASON} IS NOT NULL) AS bad FROM ${checked}`,
  )
  const rowsOut = Number(counts.ok)
  const rowsRejected = Number(counts.bad)
  const reasons = rowsRejected === 0 ? [] : (await engine.rows<{r: string}>(`SELECT ${REASON} AS r FROM ${checked} WHERE ${REASON} IS NOT NULL${order} LIMIT 5`)).map((x) => x.r)

  const rawColumns = state.columns.map((c, i) => `coalesce(${RAW}[${i + 1}], CAST(${col(c)} AS VARCHAR)) AS ${col(c)}`)
  const rejectedSelect = `SELECT ${rawColumns.join(', ')}, ${REASON} AS ${REJECTED_COLUMNS[0]}, ${quoteLiteral(options.transition)} AS ${REJECTED_COLUMNS[1]}, ${quoteLiteral(options.run)} AS ${REJECTED_COLUMNS[2]} FROM ${checked} WHERE ${REASON} IS NOT NULL`
  if (options.into) {
    // The checked table becomes the state: the rejected rows move out, the check columns go.
    // Deleting marks rows and dropping a column drops a reference: neither rewrites the rows.
    const rejected = options.into.table(`rej_${name}`)
    await engine.run(`CREATE OR REPLACE TABLE ${rejected} AS ${rejectedSelect}`)
    if (rowsRejected > 0) await engine.run(`DELETE FROM ${checked} WHERE ${REASON} IS NOT NULL`)
    for (const column of [REASON, RAW, ...(hasRow ? [ROW_COLUMN] : [])]) await engine.run(`ALTER TABLE ${checked} DROP COLUMN ${column}`)
    return {staged: checked, rejected, rowsIn: rowsOut + rowsRejected, rowsOut, rowsRejected, reasons}
  }

  const staged = `_dm_ok_${name}`
  const rejected = `_dm_rej_${name}`
  const plain = state.columns.map(col).join(', ')
  await engine.run(`CREATE OR REPLACE VIEW ${staged} AS SELECT ${plain} FROM ${checked} WHERE ${REASON} IS NULL`)
  await engine.run(`CREATE OR REPLACE VIEW ${rejected} AS ${rejectedSelect}`)
  return {staged, rejected, rowsIn: rowsOut + rowsRejected, rowsOut, rowsRejected, reasons}
}
