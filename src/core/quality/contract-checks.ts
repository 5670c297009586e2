import type {Engine} from '../engine/session.js'
import {quoteIdent, quoteLiteral} from '../engine/types.js'
import type {RuleResult} from '../run/result-schema.js'
import {type Expectation, describeExpectation, expectationOf, holds} from './operators.js'

/** ODCS 3.0 library rule names and the 3.1 metric each one is. */
const METRIC_ALIASES: Record<string, string> = {
  nullCheck: 'nullValues',
  nullValues: 'nullValues',
  missingValues: 'missingValues',
  invalidValues: 'invalidValues',
  validValues: 'invalidValues',
  duplicateCount: 'duplicateValues',
  duplicateValues: 'duplicateValues',
  uniqueCheck: 'duplicateValues',
  rowCount: 'rowCount',
  countCheck: 'rowCount',
}

/** What a rule with no operator means: counts of bad values must be 0, a table must have rows. */
const DEFAULT_EXPECTATION: Record<string, Expectation> = {
  rowCount: {operator: 'mustBeGreaterThan', operand: 0},
  sql: {operator: 'mustBe', operand: 0},
}
const ZERO: Expectation = {operator: 'mustBe', operand: 0}

type Json = Record<string, unknown>

/**
 * Evaluates an ODCS document's checks on the rows of a state (§7): the properties' `required`,
 * `unique` and `primaryKey`, then `quality[]` at object and property level. `text` rules are
 * documentation and are not listed; `custom` rules are listed as not checked.
 *
 * `relation` is where the state's rows are; `names` are the table names a `sql` rule may use
 * besides `{object}` (the state's name in its flow, the ODCS object's name).
 */
export async function checkContract(engine: Engine, relation: string, document: unknown, objectName: string, names: readonly string[]): Promise<RuleResult[]> {
  const objects = Array.isArray((document as Json)?.schema) ? ((document as Json).schema as Json[]) : []
  const object = objects.find((o) => o.name === objectName) ?? (objects.length === 1 ? objects[0] : undefined)
  if (!object) return []
  const table = '_dm_contract_object'
  await engine.run(`CREATE OR REPLACE VIEW ${table} AS SELECT * FROM ${relation}`)
  for (const name of new Set([...names, String(object.name ?? '')].filter((n) => n !== ''))) {
    await engine.run(`CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT * FROM ${relation}`)
  }
  const label = String(object.name ?? objectName)
  const results: Array<RuleResult | undefined> = []
  const properties = Array.isArray(object.properties) ? (object.properties as Json[]) : []
  const keys = properties.filter((p) => p.primaryKey === true).map((p) => String(p.name))

  for (const p of properties) {
    const name = String(p.name)
    const column = quoteIdent(name)
    if (p.required === true || p.primaryKey === true) {
      const value = await engine.count(`SELECT count(*) FROM ${table} WHERE ${column} IS NULL`)
      results.push(result(`${label}.${name} required (nullValues mustBe 0)`, value, ZERO))
    }
    if (p.unique === true || (p.primaryKey === true && keys.length === 1)) {
      const value = await engine.count(`SELECT count(*) - count(DISTINCT ${column}) FROM ${table} WHERE ${column} IS NOT NULL`)
      results.push(result(`${label}.${name} ${p.unique === true ? 'unique' : 'primaryKey'} (duplicateValues mustBe 0)`, value, ZERO))
    }
  }
  if (keys.length > 1) {
    const tuple = keys.map(quoteIdent).join(', ')
    const value = await engine.count(`SELECT count(*) FROM (SELECT ${tuple} FROM ${table} GROUP BY ${tuple} HAVING count(*) > 1)`)
    results.push(result(`${label} primaryKey (${keys.join(', ')}) (duplicateValues mustBe 0)`, value, ZERO))
  }

  for (const rule of asRules(object.quality)) results.push(await checkRule(engine, table, label, undefined, rule))
  for (const p of properties) {
    for (const rule of asRules(p.quality)) results.push(await checkRule(engine, table, label, String(p.name), rule))
  }
  return results.filter((r): r is RuleResult => r !== undefined)
}

function asRules(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((r): r is Json => typeof r === 'object' && r !== null) : []
}

function result(rule: string, value: number, expectation: Expectation, message?: string): RuleResult {
  const passed = holds(value, expectation)
  return {rule, passed, value, ...((message ?? !passed) && {message: message ?? `${value} does not satisfy ${describeExpectation(expectation)}`})}
}

async function checkRule(engine: Engine, table: string, object: string, property: string | undefined, rule: Json): Promise<RuleResult | undefined> {
  const type = String(rule.type ?? 'library')
  const where = property === undefined ? object : `${object}.${property}`
  const title = typeof rule.name === 'string' ? rule.name : typeof rule.description === 'string' ? rule.description : undefined
  const name = (what: string, e?: Expectation) => `${where} ${what}${e ? ` ${describeExpectation(e)}` : ''}${title ? ` (${title})` : ''}`
  if (type === 'text') return undefined
  if (type === 'custom') return {rule: name(`custom${rule.engine ? ` (${String(rule.engine)})` : ''}`), passed: null, value: null, message: 'custom rules run in their own engine'}

  const stated = expectationOf(rule)
  if (stated && 'error' in stated) return {rule: name(type), passed: false, value: null, message: stated.error}

  if (type === 'sql') {
    const query = typeof rule.query === 'string' ? rule.query : undefined
    if (!query) return {rule: name('sql'), passed: false, value: null, message: 'a sql rule needs a query'}
    const expectation = stated ?? DEFAULT_EXPECTATION.sql
    const sql = query.replaceAll('{object}', table).replaceAll('{property}', property === undefined ? '' : quoteIdent(property))
    try {
      const value = await engine.count(`SELECT * FROM (${sql.replace(/;\s*$/, '')}) LIMIT 1`)
      return result(name('sql', expectation), value, expectation)
    } catch (error) {
      return {rule: name('sql', expectation), passed: false, value: null, message: `the query failed: ${(error as Error).message.split('\n')[0]}`}
    }
  }

  const given = String(rule.metric ?? rule.rule ?? '')
  const metric = METRIC_ALIASES[given]
  if (!metric) return {rule: name(given || 'library'), passed: null, value: null, message: `not checked: unknown library metric "${given}"`}
  const expectation = stated ?? DEFAULT_EXPECTATION[metric] ?? ZERO
  const args = (typeof rule.arguments === 'object' && rule.arguments !== null ? rule.arguments : {}) as Json
  const value = await measure(engine, table, property, metric, args, rule)
  if (typeof value === 'string') return {rule: name(metric, expectation), passed: false, value: null, message: value}
  const percent = rule.unit === 'percent'
  const measured = percent ? await asPercent(engine, table, value) : value
  return result(name(percent ? `${metric} (percent)` : metric, expectation), measured, expectation)
}

async function asPercent(engine: Engine, table: string, value: number): Promise<number> {
  const rows = await engine.count(`SELECT count(*) FROM ${table}`)
  return rows === 0 ? 0 : Math.round((value / rows) * 10_000) / 100
}

/** A metric's value, or a message when the rule cannot be measured as written. */
async function measure(engine: Engine, table: string, property: string | undefined, metric: string, args: Json, rule: Json): Promise<number | string> {
  if (metric === 'rowCount') return engine.count(`SELECT count(*) FROM ${table}`)
  if (metric === 'duplicateValues') {
    const columns = property === undefined ? (Array.isArray(args.properties) ? args.properties.map(String) : []) : [property]
    if (columns.length === 0) return 'duplicateValues at object level needs arguments.properties'
    const tuple = columns.map(quoteIdent).join(', ')
    return engine.count(`SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM ${table} GROUP BY ${tuple} HAVING count(*) > 1)`)
  }
  if (property === undefined) return `${metric} is a property-level metric; put the rule under a property`
  const column = quoteIdent(property)
  if (metric === 'nullValues') return engine.count(`SELECT count(*) FROM ${table} WHERE ${column} IS NULL`)
  if (metric === 'missingValues') {
    const missing = Array.isArray(args.missingValues) ? args.missingValues : ['']
    const listed = missing.filter((v) => v !== null).map((v) => quoteLiteral(String(v)))
    const inList = listed.length > 0 ? ` OR CAST(${column} AS VARCHAR) IN (${listed.join(', ')})` : ''
    return engine.count(`SELECT count(*) FROM ${table} WHERE ${column} IS NULL${inList}`)
  }
  // invalidValues: outside validValues (ODCS 3.0 puts them on the rule itself) or not matching pattern.
  const valid = Array.isArray(args.validValues) ? args.validValues : Array.isArray(rule.validValues) ? rule.validValues : undefined
  const pattern = typeof args.pattern === 'string' ? args.pattern : undefined
  if (!valid && !pattern) return 'invalidValues needs arguments.validValues or arguments.pattern'
  const conditions = []
  if (valid) conditions.push(`CAST(${column} AS VARCHAR) NOT IN (${valid.map((v) => quoteLiteral(String(v))).join(', ')})`)
  if (pattern) conditions.push(`NOT regexp_full_match(CAST(${column} AS VARCHAR), ${quoteLiteral(pattern)})`)
  return engine.count(`SELECT count(*) FROM ${table} WHERE ${column} IS NOT NULL AND (${conditions.join(' OR ')})`)
}
