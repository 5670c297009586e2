import type {Workspace} from '../storage/driver.js'
import type {Engine} from './session.js'
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
}

/**
 * Checks every row of `source` against a state (§7) in one pass: values are cast to the field
 * types (a value that does not cast rejects its row), `required` fields must hold a value,
 * `primaryKey` and `unique` fields must not repeat (the first row in input order is kept). The
 * caller has made sure the columns match (`compareColumns`).
 *
 * Casting is skipped for a column whose type already is the field's: a transition that selects
 * typed columns pays only for the `required` and key checks.
 */
export async function enforceSchema(engine: Engine, source: string, state: StateTable, name: string, options: EnforceOptions): Promise<Enforced> {
  const described = await engine.rows<{column_name: string; column_type: string}>(`DESCRIBE SELECT * FROM ${source}`)
  const typeOf = new Map(described.map((d) => [d.column_name.toLowerCase(), d.column_type]))
  const hasRow = typeOf.has(ROW_COLUMN)
  const label = options.rowLabel && hasRow ? `${options.rowLabel} || ': ' || ` : ''
  const needsCast = (c: StateColumn) => typeOf.get(c.name.toLowerCase()) !== c.type && !(c.type === 'JSON' && typeOf.get(c.name.toLowerCase()) === 'JSON')
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
