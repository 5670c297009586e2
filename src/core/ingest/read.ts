import {open, stat} from 'node:fs/promises'

import {UserError} from '../errors.js'
import {ROW_COLUMN} from '../engine/enforce.js'
import type {Engine} from '../engine/session.js'
import {quoteLiteral} from '../engine/types.js'
import type {InputFormat} from './format.js'

/** How much of a CSV file is read to find its header line. */
const HEADER_BYTES = 1 << 20

/**
 * DuckDB's CSV reader buffer: its default (16 × the 2 MB longest line, 32 MB, several in flight
 * per thread) sits outside memory_limit. Counting a 206 MiB CSV at memoryLimit 128MB: RSS 210 MiB
 * with the default, 113 with 8 MB, and no slower. Lines up to the reader's 2 MB limit still fit.
 */
const CSV_BUFFER_BYTES = 8 << 20

/**
 * Makes a file readable as a relation with a row number, and returns its name. DuckDB reads the
 * file itself (read_csv, read_json, read_parquet), so a large file streams and is never held
 * in JavaScript. CSV is read strictly and as text: the engine's casts then say which value did
 * not cast, instead of DuckDB guessing types from a sample.
 */
export async function relationOfFile(engine: Engine, name: string, file: string, format: InputFormat, label: string): Promise<string> {
  return (await relationsOfFile(engine, name, file, format, label)).numbered
}

export interface FileRelations {
  /** The file's rows with their row number (`_dm_row`, 1-based), for messages that name a row. */
  numbered: string
  /**
   * The same rows without it. Numbering CSV and JSON rows (`row_number() OVER ()`) holds DuckDB's
   * reader to one thread and the rows in file order: a reader that needs no row numbers (schema
   * checks that find nothing wrong) reads this one, in parallel.
   */
  plain: string
}

/** `relationOfFile`, and the same rows without a row number (see FileRelations). */
export async function relationsOfFile(engine: Engine, name: string, file: string, format: InputFormat, label: string): Promise<FileRelations> {
  const size = (await stat(file)).size
  if (size === 0) throw new UserError(`${label} is empty: it holds no header and no rows`, {suggestions: ['Give a file with at least a header line, or leave the input out.']})
  const path = quoteLiteral(file)
  let reader: string
  let plainReader: string
  let rowNumber = `row_number() OVER () AS ${ROW_COLUMN}`
  if (format === 'csv') {
    const header = await csvHeader(file, label)
    const columns = header.map((h) => `${quoteLiteral(h)}: 'VARCHAR'`).join(', ')
    reader = `read_csv(${path}, auto_detect=false, header=true, delim=',', quote='"', escape='"', strict_mode=true, buffer_size=${CSV_BUFFER_BYTES}, columns={${columns}})`
    plainReader = reader
  } else if (format === 'parquet') {
    reader = `read_parquet(${path}, file_row_number=true)`
    plainReader = `read_parquet(${path})`
    rowNumber = `file_row_number + 1 AS ${ROW_COLUMN}`
  } else {
    reader = `read_json(${path}, format=${format === 'ndjson' ? "'newline_delimited'" : "'array'"})`
    plainReader = reader
  }
  const relation = `_dm_in_${name}`
  const plain = `_dm_in_${name}_plain`
  const exclude = format === 'parquet' ? ' EXCLUDE (file_row_number)' : ''
  await engine.run(`CREATE OR REPLACE VIEW ${relation} AS SELECT *${exclude}, ${rowNumber} FROM ${reader}`)
  await engine.run(`CREATE OR REPLACE VIEW ${plain} AS SELECT * FROM ${plainReader}`)
  // Binding the view reads the file's header or schema: a file of the wrong format fails here, clearly.
  await engine.rows(`DESCRIBE SELECT * FROM ${relation}`).catch((error: unknown) => {
    throw inputError(error, label)
  })
  return {numbered: relation, plain}
}

/** The column names on a CSV file's first line. */
async function csvHeader(file: string, label: string): Promise<string[]> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(HEADER_BYTES)
    const {bytesRead} = await handle.read(buffer, 0, HEADER_BYTES, 0)
    const text = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '')
    const end = text.search(/\r?\n/)
    const line = end < 0 ? text : text.slice(0, end)
    const names = splitCsvLine(line)
    if (names.length === 0 || names.some((n) => n.trim() === '')) {
      throw new UserError(`${label} line 1: the header has an empty column name`, {suggestions: ['The first line of a CSV input names its columns: the fields of the input state.']})
    }
    return names
  } finally {
    await handle.close()
  }
}

function splitCsvLine(line: string): string[] {
  const out: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') field += line[++i]
      else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      out.push(field)
      field = ''
    } else field += ch
  }
  out.push(field)
  return out
}

/**
 * DuckDB's reader errors as one line a user can act on: `data/x.csv line 4: Value with
 * unterminated quote found.` (DuckDB's own message carries a dozen lines of reader options).
 */
export function inputError(error: unknown, label: string): UserError {
  const message = error instanceof Error ? error.message : String(error)
  const csv = /CSV Error on Line: (\d+)\s*\n(?:Original Line: ([^\n]*)\n)?([\s\S]*?)(?:\n\s*\n|\nPossible fixes|$)/.exec(message)
  if (csv) {
    const [, line, original, what] = csv
    const shown = original === undefined ? '' : ` (${original.length > 80 ? `${original.slice(0, 80)}…` : original})`
    return new UserError(`${label} line ${line}: ${what.trim().split('\n').pop()}${shown}`, {
      suggestions: ['Fix that line of the file: fields separated by commas, values with commas or quotes in double quotes, as many fields as the header.'],
    })
  }
  const first = message.split('\n').find((l) => l.trim() !== '') ?? message
  return new UserError(`${label}: ${first.replace(/^[A-Za-z ]+ Error: /, '')}`, {suggestions: ['Check that the file is CSV, NDJSON, a JSON array or Parquet, as its extension says.']})
}
