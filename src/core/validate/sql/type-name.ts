/**
 * The name of a DuckDB column type, read from DuckDB's C API (@duckdb/node-bindings) without the
 * @duckdb/node-api wrapper: loading the wrapper's 180 modules cost more CPU than loading DuckDB
 * itself, on every `validate` of a project with SQL. The names are the wrapper's own
 * (DuckDBType.toString, kept equal by test/unit/validate-sql-type-name.test.ts), so a column's
 * type compares with a state's field types (engine/types.ts) and reads in findings as before.
 */
import type * as Duckdb from '@duckdb/node-bindings'

/** The native module as `import()` gives it (its CommonJS exports are the default export). */
export type Bindings = typeof Duckdb.default

/** DuckDB's type ids (duckdb_type), by value, as the wrapper names them (its DuckDBTypeId). */
const NAMES: Record<number, string> = {
  0: 'INVALID',
  1: 'BOOLEAN',
  2: 'TINYINT',
  3: 'SMALLINT',
  4: 'INTEGER',
  5: 'BIGINT',
  6: 'UTINYINT',
  7: 'USMALLINT',
  8: 'UINTEGER',
  9: 'UBIGINT',
  10: 'FLOAT',
  11: 'DOUBLE',
  12: 'TIMESTAMP',
  13: 'DATE',
  14: 'TIME',
  15: 'INTERVAL',
  16: 'HUGEINT',
  17: 'VARCHAR',
  18: 'BLOB',
  19: 'DECIMAL',
  20: 'TIMESTAMP_S',
  21: 'TIMESTAMP_MS',
  22: 'TIMESTAMP_NS',
  23: 'ENUM',
  24: 'LIST',
  25: 'STRUCT',
  26: 'MAP',
  27: 'UUID',
  28: 'UNION',
  29: 'BIT',
  30: 'TIME_TZ',
  31: 'TIMESTAMP_TZ',
  32: 'UHUGEINT',
  33: 'ARRAY',
  34: 'ANY',
  35: 'BIGNUM',
  36: 'SQLNULL',
  37: 'STRING_LITERAL',
  38: 'INTEGER_LITERAL',
  39: 'TIME_NS',
  40: 'GEOMETRY',
  41: 'VARIANT',
}

const quotedString = (s: string) => `'${s.replaceAll("'", "''")}'`
const quotedIdentifier = (s: string) => `"${s.replaceAll('"', '""')}"`

/** A column's type as findings name it: its alias (e.g. JSON) when it has one, else its structure. */
export function columnTypeName(duckdb: Bindings, type: Duckdb.LogicalType): string {
  return duckdb.logical_type_get_alias(type) || typeName(duckdb, type)
}

/** The structure of a type; aliases of nested types are not shown (as in DuckDBType.toString). */
export function typeName(duckdb: Bindings, type: Duckdb.LogicalType): string {
  const T = duckdb.Type
  const id = duckdb.get_type_id(type)
  const members = (count: number, name: (i: number) => string, child: (i: number) => Duckdb.LogicalType) =>
    Array.from({length: count}, (_, i) => `${quotedIdentifier(name(i))} ${typeName(duckdb, child(i))}`).join(', ')
  switch (id) {
    case T.DECIMAL:
      return `DECIMAL(${duckdb.decimal_width(type)},${duckdb.decimal_scale(type)})`
    case T.ENUM:
      return `ENUM(${Array.from({length: duckdb.enum_dictionary_size(type)}, (_, i) => quotedString(duckdb.enum_dictionary_value(type, i))).join(', ')})`
    case T.LIST:
      return `${typeName(duckdb, duckdb.list_type_child_type(type))}[]`
    case T.ARRAY:
      return `${typeName(duckdb, duckdb.array_type_child_type(type))}[${duckdb.array_type_array_size(type)}]`
    case T.MAP:
      return `MAP(${typeName(duckdb, duckdb.map_type_key_type(type))}, ${typeName(duckdb, duckdb.map_type_value_type(type))})`
    case T.STRUCT:
      return `STRUCT(${members(duckdb.struct_type_child_count(type), (i) => duckdb.struct_type_child_name(type, i), (i) => duckdb.struct_type_child_type(type, i))})`
    case T.UNION:
      return `UNION(${members(duckdb.union_type_member_count(type), (i) => duckdb.union_type_member_name(type, i), (i) => duckdb.union_type_member_type(type, i))})`
    case T.TIME_TZ:
      return 'TIME WITH TIME ZONE'
    case T.TIMESTAMP_TZ:
      return 'TIMESTAMP WITH TIME ZONE'
    case T.GEOMETRY: {
      const crs = duckdb.geometry_type_get_crs(type)
      return crs ? `GEOMETRY(${quotedString(crs)})` : 'GEOMETRY'
    }
    default:
      return NAMES[id] ?? `UNKNOWN(${id})`
  }
}
