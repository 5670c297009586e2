import type {SchemaField, SchemaState} from '../validate/context.js'

/**
 * DataSchema field types as DuckDB column types (DESIGN §7). One table so the engine, the schema
 * checks and every storage driver agree on what a state's columns are.
 *
 * `array` is JSON rather than a LIST: a field declares no element type, and JSON keeps any
 * element (a LIST would need one).
 */
export const DUCKDB_TYPES: Record<SchemaField['type'], string> = {
  string: 'VARCHAR',
  text: 'VARCHAR',
  integer: 'INTEGER',
  long: 'BIGINT',
  number: 'DOUBLE',
  decimal: 'DECIMAL(38,9)',
  boolean: 'BOOLEAN',
  date: 'DATE',
  time: 'TIME',
  timestamp: 'TIMESTAMP',
  bytes: 'BLOB',
  object: 'JSON',
  json: 'JSON',
  array: 'JSON',
}

export function duckdbType(type: SchemaField['type']): string {
  return DUCKDB_TYPES[type]
}

/** One column of a state as the engine and the drivers see it. */
export interface StateColumn {
  name: string
  /** The DataSchema field type. */
  fieldType: SchemaField['type']
  /** Its DuckDB type (`DUCKDB_TYPES[fieldType]`). */
  type: string
  required: boolean
  primaryKey: boolean
  unique: boolean
}

/**
 * A state of a flow as a table: the name it has in SQL and in its storage, and its columns in
 * the order the DataSchema declares them.
 */
export interface StateTable {
  /**
   * The table's name in its storage: `<schema>__<state>` (`orders__raw`), so that the flows of
   * several entities can share one storage. Quarantine tables are `<table>__rejected`.
   */
  table: string
  /**
   * The name a transition's SQL uses: the state's name for the flow's own schema (`raw`),
   * `<schema>__<state>` (the storage name) for a state of another schema.
   */
  sqlName: string
  /** The full state ref, `schema@version/state`. */
  ref: string
  columns: StateColumn[]
  /** Columns of the primary key, in declaration order (empty when the state has none). */
  primaryKey: string[]
}

/** The columns every `<state>__rejected` table adds to the state's own (all VARCHAR, as rejected values may not cast). */
export const REJECTED_COLUMNS = ['_reason', '_transition', '_run'] as const

export function rejectedTable(table: string): string {
  return `${table}__rejected`
}

/** The storage name of a state: `<schema>__<state>`. */
export function storageTableName(schema: string, state: string): string {
  return `${schema}__${state}`
}

/** Builds a StateTable from a DataSchema state; `flowSchema` is the schema of the flow whose SQL reads it. */
export function stateTable(ref: {schema: string; version: string; state: string}, state: SchemaState, flowSchema: string): StateTable {
  const table = storageTableName(ref.schema, ref.state)
  const columns = state.fields.map((f) => ({
    name: f.name,
    fieldType: f.type,
    type: duckdbType(f.type),
    required: f.required === true || f.primaryKey === true,
    primaryKey: f.primaryKey === true,
    unique: f.unique === true,
  }))
  return {table, sqlName: ref.schema === flowSchema ? ref.state : table, ref: `${ref.schema}@${ref.version}/${ref.state}`, columns, primaryKey: columns.filter((c) => c.primaryKey).map((c) => c.name)}
}

/** A SQL identifier, always quoted: state and field names may be SQL keywords (`day`, `order`). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/** The quarantine table of a state: its columns as text (a rejected value may not cast), then `_reason`, `_transition`, `_run`. */
export function rejectedStateTable(state: StateTable): StateTable {
  const text = (name: string): StateColumn => ({name, fieldType: 'string', type: 'VARCHAR', required: false, primaryKey: false, unique: false})
  return {
    table: rejectedTable(state.table),
    sqlName: rejectedTable(state.sqlName),
    ref: `${state.ref}__rejected`,
    columns: [...state.columns.map((c) => text(c.name)), ...REJECTED_COLUMNS.map((c) => text(c))],
    primaryKey: [],
  }
}
