import type {Engine} from './session.js'
import {type StateTable, quoteLiteral} from './types.js'

/**
 * Which keys of a transition's result its SQL keeps unique by construction, so that the schema
 * check need not look for repeats (a hash aggregate over every row: the largest share of the checks
 * once nothing is rejected). Reasoned from DuckDB's own parse tree (`json_serialize_sql`), and
 * only for shapes where it is certain:
 *
 * - one SELECT (no CTE, GROUP BY, HAVING, QUALIFY, SAMPLE, UNION, UNNEST in the select list) whose
 *   modifiers only drop or order rows (WHERE, DISTINCT, ORDER BY, LIMIT): each result row is a
 *   distinct row of its FROM;
 * - FROM one table, or INNER/LEFT JOINs whose ON equates every column of a unique key of the
 *   joined side with columns of the other: each row of the other side meets at most one row, so
 *   its keys stay unique (an INNER JOIN keeps those of both sides when each meets a key of the other);
 * - the key's columns are selected as plain column references (or by `*` from a single table),
 *   and include all columns of a key of a table that this run checked (`sources`).
 *
 * Anything else, or SQL the parser rejects, proves nothing and the key is checked as usual.
 */
export async function keysKeptBy(engine: Engine, sql: string, sources: ReadonlyMap<string, readonly Key[]>, wanted: readonly Key[]): Promise<Key[]> {
  if (wanted.length === 0 || sources.size === 0) return []
  const [{json}] = await engine.rows<{json: string}>(`SELECT json_serialize_sql(${quoteLiteral(sql)}) AS json`)
  const tree = node(JSON.parse(json))
  const statements = list(tree?.statements)
  if (!tree || tree.error !== false || statements.length !== 1) return []
  const select = node(node(statements[0])?.node)
  if (!select || !rowPreserving(select)) return []
  const from = relation(node(select.from_table), sources)
  if (!from) return []
  const origin = columnOrigins(list(select.select_list), from)
  return wanted.filter((key) => {
    const columns = key.map((c) => origin(c.toLowerCase()))
    if (columns.some((c) => c === undefined)) return false
    return from.unique.some((unique) => unique.every((c) => columns.includes(c)))
  })
}

/** A key: the names of its columns. */
export type Key = readonly string[]

/** The keys of a state its schema check proves unique: the primary key, and each unique field. */
export function stateKeys(state: StateTable): Key[] {
  return [...(state.primaryKey.length > 0 ? [state.primaryKey] : []), ...state.columns.filter((c) => c.unique && !c.primaryKey).map((c) => [c.name])]
}

type Node = Record<string, unknown>

function node(value: unknown): Node | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Node) : undefined
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.toLowerCase() : ''
}

const ROW_KEEPING_MODIFIERS = new Set(['ORDER_MODIFIER', 'LIMIT_MODIFIER', 'DISTINCT_MODIFIER'])

/** Whether every row of the SELECT's result is a different row of its FROM (rows are only dropped or reordered). */
function rowPreserving(select: Node): boolean {
  return (
    select.type === 'SELECT_NODE' &&
    list(node(select.cte_map)?.map).length === 0 &&
    list(select.modifiers).every((m) => ROW_KEEPING_MODIFIERS.has(String(node(m)?.type))) &&
    list(select.group_expressions).length === 0 &&
    list(select.group_sets).length === 0 &&
    select.aggregate_handling === 'STANDARD_HANDLING' &&
    select.having === null &&
    select.qualify === null &&
    select.sample === null &&
    // UNNEST in the select list makes several rows of one.
    !/"function_name":"(unnest|unlist)"/i.test(JSON.stringify(select.select_list))
  )
}

/** The FROM of a SELECT: its tables by alias, and the sets of qualified columns (`alias.column`) unique in it. */
interface Relation {
  aliases: Map<string, string>
  unique: string[][]
}

function relation(from: Node | undefined, sources: ReadonlyMap<string, readonly Key[]>): Relation | undefined {
  if (!from) return undefined
  if (from.type === 'BASE_TABLE') {
    const plain = from.schema_name === '' && from.catalog_name === '' && from.sample === null && from.at_clause === null && list(from.column_name_alias).length === 0
    if (!plain) return undefined
    const table = text(from.table_name)
    const alias = text(from.alias) || table
    return {aliases: new Map([[alias, table]]), unique: (sources.get(table) ?? []).map((key) => key.map((c) => `${alias}.${c.toLowerCase()}`))}
  }
  if (from.type !== 'JOIN' || from.ref_type !== 'REGULAR' || list(from.using_columns).length > 0) return undefined
  const kind = from.join_type
  if (kind !== 'INNER' && kind !== 'LEFT') return undefined
  const left = relation(node(from.left), sources)
  const right = relation(node(from.right), sources)
  if (!left || !right || [...right.aliases.keys()].some((a) => left.aliases.has(a))) return undefined
  const equal = equalities(node(from.condition))
  const meetsKeyOf = (side: Relation, other: Relation) =>
    side.unique.some((key) => key.every((c) => equal.some(([a, b]) => (a === c && owns(other, b)) || (b === c && owns(other, a)))))
  const unique = [...(meetsKeyOf(right, left) ? left.unique : []), ...(kind === 'INNER' && meetsKeyOf(left, right) ? right.unique : [])]
  return {aliases: new Map([...left.aliases, ...right.aliases]), unique}
}

function owns(side: Relation, column: string): boolean {
  return side.aliases.has(column.split('.')[0])
}

/** The `a.x = b.y` conjuncts of a join condition, as qualified column pairs (other conjuncts only drop rows). */
function equalities(condition: Node | undefined): Array<[string, string]> {
  if (!condition) return []
  if (condition.type === 'CONJUNCTION_AND') return list(condition.children).flatMap((c) => equalities(node(c)))
  if (condition.type !== 'COMPARE_EQUAL') return []
  const a = qualified(node(condition.left))
  const b = qualified(node(condition.right))
  return a && b ? [[a, b]] : []
}

/** `alias.column` of a qualified column reference. */
function qualified(expression: Node | undefined): string | undefined {
  const names = list(expression?.column_names)
  return expression?.class === 'COLUMN_REF' && names.length === 2 ? `${text(names[0])}.${text(names[1])}` : undefined
}

/**
 * For a result column's name, the qualified column of the FROM it is a plain copy of, or
 * undefined when it is computed, or when more than one item of the select list may name it.
 */
function columnOrigins(items: unknown[], from: Relation): (name: string) => string | undefined {
  const single = from.aliases.size === 1 ? [...from.aliases.keys()][0] : undefined
  const named = new Map<string, Array<string | undefined>>()
  let star: string | undefined
  let stars = 0
  for (const item of items.map(node)) {
    if (item?.class === 'STAR') {
      stars++
      const plain = list(item.exclude_list).length === 0 && list(item.replace_list).length === 0 && list(item.rename_list).length === 0 && list(item.qualified_exclude_list).length === 0
      const from = text(item.relation_name)
      if (single && plain && item.columns === false && item.expr === null && (from === '' || from === single)) star = single
      continue
    }
    const names = list(item?.column_names)
    const name = text(item?.alias) || (item?.class === 'COLUMN_REF' ? text(names.at(-1)) : '')
    if (!name) continue
    let origin: string | undefined
    if (item?.class === 'COLUMN_REF' && names.length === 2 && from.aliases.has(text(names[0]))) origin = `${text(names[0])}.${text(names[1])}`
    else if (item?.class === 'COLUMN_REF' && names.length === 1 && single) origin = `${single}.${text(names[0])}`
    named.set(name, [...(named.get(name) ?? []), origin])
  }
  return (name) => {
    const given = named.get(name)
    if (given) return given.length === 1 && stars === 0 ? given[0] : undefined
    return stars === 1 && star ? `${star}.${name}` : undefined
  }
}
