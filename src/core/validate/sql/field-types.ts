/**
 * The DuckDB column type of each DataSchema field type (DESIGN §7), as the engine stores states.
 * Kept here until the engine's own mapping (src/core/engine/types.ts) is merged; then this file
 * re-exports that one, so validation binds against exactly the tables a run creates.
 */
import type {FIELD_TYPES} from '../../model/schemas/data-schema.js'

export type FieldType = (typeof FIELD_TYPES)[number]

export const DUCKDB_TYPE: Record<FieldType, string> = {
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

export function duckdbType(type: FieldType): string {
  return DUCKDB_TYPE[type]
}
