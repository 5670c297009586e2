/**
 * Compares the rows a state holds with the rows an expect file says it must hold, in DuckDB and
 * on typed values: the file's values are cast to the state's column types first, so `25.5` and
 * `25.50` are one decimal, and `2024-05-01 09:00` one timestamp. A state with a primary key is
 * compared row by row by key (a row can be missing, unexpected or changed); a state without one
 * as a multiset (order does not matter, duplicates do).
 */
import {ROW_COLUMN} from '../engine/enforce.js'
import type {Engine} from '../engine/session.js'
import {type StateTable, quoteIdent} from '../engine/types.js'
import {inputError, relationOfFile} from '../ingest/read.js'
import type {FixtureFile} from './fixtures.js'

/** How many differing rows a report shows. */
export const SHOWN_ROWS = 10

export interface StateComparison {
  /** The state's ref (`orders@0.1.0/clean`, or `…/clean__rejected`). */
  state: string
  file: string
  passed: boolean
  expectedRows: number
  actualRows: number
  /** Expected rows the state does not hold. */
  missing: number
  /** Rows the state holds that were not expected. */
  unexpected: number
  /** Rows whose key matches but whose values differ (states with a primary key). */
  changed: number
  /** The columns compared: the expect file's, which may leave some of the state's out. */
  columns: string[]
  /** A unified diff of the first differing rows: ` ` header, `-` expected, `+` actual. */
  diff: string[]
  /** A problem with the expect file itself (its columns or values); the comparison did not run. */
  error?: string
}

const q = quoteIdent

/** A row as one CSV-like line of its typed values rendered by DuckDB (NULL as an empty cell). */
function renderRow(row: Record<string, unknown>, columns: string[]): string {
  return columns
    .map((c) => {
      const v = row[c]
      if (v === null || v === undefined) return ''
      const s = String(v)
      return /[",\n]|^\s|\s$/.test(s) || s === '' ? `"${s.replaceAll('"', '""')}"` : s
    })
    .join(',')
}

export class ComparisonError extends Error {}

/**
 * Compares `actual` (a relation holding the state's rows, or undefined when the state was never
 * written) with the expect file. `slug` names the engine objects this comparison creates.
 */
export async function compareState(engine: Engine, table: StateTable, actual: string | undefined, expect: FixtureFile, slug: string): Promise<StateComparison> {
  const base = {state: table.ref, file: expect.label, expectedRows: 0, actualRows: 0, missing: 0, unexpected: 0, changed: 0, columns: [] as string[], diff: [] as string[]}
  try {
    return {...base, ...(await compare(engine, table, actual, expect, slug))}
  } catch (error) {
    if (error instanceof ComparisonError) return {...base, passed: false, error: error.message}
    throw error
  }
}

async function compare(engine: Engine, table: StateTable, actual: string | undefined, expect: FixtureFile, slug: string) {
  const raw = await relationOfFile(engine, `expect_${slug}`, expect.file, expect.format, expect.label).catch((error: unknown) => {
    throw new ComparisonError(error instanceof Error ? error.message : String(error))
  })
  const described = await engine.rows<{column_name: string}>(`DESCRIBE SELECT * FROM ${raw}`).catch((error: unknown) => {
    throw new ComparisonError(inputError(error, expect.label).message)
  })
  const columns = described.map((d) => d.column_name).filter((c) => c !== ROW_COLUMN)
  const known = new Map(table.columns.map((c) => [c.name, c]))
  const extra = columns.filter((c) => !known.has(c))
  if (extra.length > 0) {
    throw new ComparisonError(`${expect.label}: column${extra.length === 1 ? '' : 's'} ${extra.map((c) => `"${c}"`).join(', ')} ${extra.length === 1 ? 'is' : 'are'} not a field of ${table.ref} (it has ${table.columns.map((c) => c.name).join(', ')}); rename or remove ${extra.length === 1 ? 'it' : 'them'}`)
  }
  if (columns.length === 0) throw new ComparisonError(`${expect.label}: no columns; its first line names the fields of ${table.ref} to compare`)

  // The expected rows, typed as the state's columns; a value that does not cast is the file's error.
  const line = (row: number) => (expect.format === 'csv' ? `line ${row + 1}` : `row ${row}`)
  for (const c of columns) {
    const type = known.get(c)!.type
    const bad = await engine.rows<{row: number; value: string}>(
      `SELECT ${ROW_COLUMN} AS row, CAST(${q(c)} AS VARCHAR) AS value FROM ${raw} WHERE ${q(c)} IS NOT NULL AND TRY_CAST(${q(c)} AS ${type}) IS NULL ORDER BY ${ROW_COLUMN} LIMIT 1`,
    )
    if (bad.length > 0) throw new ComparisonError(`${expect.label} ${line(Number(bad[0].row))}, column ${c}: "${bad[0].value}" is not a ${known.get(c)!.fieldType} (${type}); fix the value`)
  }
  const expected = `_dm_expected_${slug}`
  const got = `_dm_actual_${slug}`
  const select = columns.map((c) => `TRY_CAST(${q(c)} AS ${known.get(c)!.type}) AS ${q(c)}`).join(', ')
  await engine.run(`CREATE OR REPLACE TEMP TABLE ${expected} AS SELECT ${select} FROM ${raw}`)
  const source = actual ?? `(SELECT ${columns.map((c) => `CAST(NULL AS ${known.get(c)!.type}) AS ${q(c)}`).join(', ')} WHERE false)`
  await engine.run(`CREATE OR REPLACE TEMP TABLE ${got} AS SELECT ${columns.map(q).join(', ')} FROM ${source}`)
  const expectedRows = await engine.count(`SELECT count(*) FROM ${expected}`)
  const actualRows = await engine.count(`SELECT count(*) FROM ${got}`)

  const key = table.primaryKey.length > 0 && table.primaryKey.every((k) => columns.includes(k)) ? table.primaryKey : []
  const text = (alias: string, c: string) => `CAST(${alias}.${q(c)} AS VARCHAR) AS ${q(`${alias}.${c}`)}`
  const header = `  ${columns.join(',')}`
  const diff: string[] = []
  let missing = 0
  let unexpected = 0
  let changed = 0
  if (key.length > 0) {
    const twice = await engine.rows(`SELECT ${key.map((k) => `CAST(${q(k)} AS VARCHAR) AS ${q(k)}`).join(', ')} FROM ${expected} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`)
    if (twice.length > 0) throw new ComparisonError(`${expect.label}: two rows have the primary key ${key.map((k) => `${k}=${twice[0][k]}`).join(', ')}; a state holds one row per key`)
    const on = key.map((k) => `e.${q(k)} = a.${q(k)}`).join(' AND ')
    const differs = columns.map((c) => `e.${q(c)} IS DISTINCT FROM a.${q(c)}`).join(' OR ')
    const eMissing = `e.${q(key[0])} IS NULL`
    const aMissing = `a.${q(key[0])} IS NULL`
    const joined = `FROM ${expected} e FULL OUTER JOIN ${got} a ON ${on} WHERE ${eMissing} OR ${aMissing} OR ${differs}`
    const counts = await engine.rows<{missing: number; unexpected: number; changed: number}>(
      `SELECT count(*) FILTER (WHERE ${aMissing}) AS missing, count(*) FILTER (WHERE ${eMissing}) AS unexpected, count(*) FILTER (WHERE NOT (${aMissing}) AND NOT (${eMissing})) AS changed ${joined}`,
    )
    ;({missing, unexpected, changed} = {missing: Number(counts[0].missing), unexpected: Number(counts[0].unexpected), changed: Number(counts[0].changed)})
    if (missing + unexpected + changed > 0) {
      const order = key.map((k) => `coalesce(e.${q(k)}, a.${q(k)})`).join(', ')
      const rows = await engine.rows(`SELECT ${columns.map((c) => text('e', c)).join(', ')}, ${columns.map((c) => text('a', c)).join(', ')}, ${aMissing} AS _gone, ${eMissing} AS _new ${joined} ORDER BY ${order} LIMIT ${SHOWN_ROWS}`)
      diff.push(`--- expected ${expect.label}`, `+++ actual   ${table.ref}`, header)
      for (const r of rows) {
        const side = (alias: string) => Object.fromEntries(columns.map((c) => [c, r[`${alias}.${c}`]]))
        if (!r._new) diff.push(`- ${renderRow(side('e'), columns)}`)
        if (!r._gone) diff.push(`+ ${renderRow(side('a'), columns)}`)
        if (!r._new && !r._gone) {
          const what = columns.filter((c) => r[`e.${c}`] !== r[`a.${c}`]).map((c) => `${c}: ${JSON.stringify(r[`e.${c}`])} → ${JSON.stringify(r[`a.${c}`])}`)
          diff.push(`  ^ ${what.join(', ')}`)
        }
      }
    }
  } else {
    const cols = columns.map(q).join(', ')
    const only = (a: string, b: string) => `SELECT ${cols} FROM ${a} EXCEPT ALL SELECT ${cols} FROM ${b}`
    missing = await engine.count(`SELECT count(*) FROM (${only(expected, got)})`)
    unexpected = await engine.count(`SELECT count(*) FROM (${only(got, expected)})`)
    if (missing + unexpected > 0) {
      const asText = columns.map((c) => `CAST(${q(c)} AS VARCHAR) AS ${q(c)}`).join(', ')
      const rows = await engine.rows(
        `SELECT * FROM (SELECT '-' AS _side, ${asText} FROM (${only(expected, got)}) UNION ALL SELECT '+' AS _side, ${asText} FROM (${only(got, expected)})) ORDER BY ${columns.map(q).join(', ')}, _side LIMIT ${SHOWN_ROWS}`,
      )
      diff.push(`--- expected ${expect.label}`, `+++ actual   ${table.ref}`, header)
      for (const r of rows) diff.push(`${r._side} ${renderRow(r, columns)}`)
    }
  }
  const shown = diff.filter((l) => /^[-+] /.test(l)).length
  const total = missing + unexpected + changed * 2
  if (shown < total) diff.push(`  … and ${total - shown} more differing lines`)
  return {passed: missing + unexpected + changed === 0, expectedRows, actualRows, missing, unexpected, changed, columns, diff}
}
