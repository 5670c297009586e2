import {type JsonSchema, authoritativeDefinitions, branch, customProperties, idOf, number, string, tags} from './common.js'
import {type OdcsVersion, atLeast, closedEverywhere} from './versions.js'

export const QUALITY_DIMENSIONS = ['accuracy', 'completeness', 'conformity', 'consistency', 'coverage', 'timeliness', 'uniqueness']
/** The metrics a 3.1.0 `library` check may name. */
export const QUALITY_METRICS = ['nullValues', 'missingValues', 'invalidValues', 'duplicateValues', 'rowCount']

const between = {type: 'array', minItems: 2, maxItems: 2, uniqueItems: true, items: number}
/** How a measured value is compared; 3.1.0 wants exactly one of them on a library or sql check. */
export const OPERATORS: Record<string, unknown> = {
  mustBe: {},
  mustNotBe: {},
  mustBeGreaterThan: number,
  mustBeGreaterOrEqualTo: number,
  mustBeLessThan: number,
  mustBeLessOrEqualTo: number,
  mustBeBetween: between,
  mustNotBeBetween: between,
}
const exactlyOneOperator = {oneOf: Object.keys(OPERATORS).map((k) => ({required: [k]}))}

/**
 * One quality check, by its type: `library` (3.0.x: also when the type is left out, and it needs
 * `rule`; 3.1.0: when `type: library` or a `metric` is given, and it needs `metric`), `sql` (needs
 * `query`), `custom` (needs `engine` and `implementation`), or `text`: one if/else branch per type.
 */
export function qualityCheck(version: OdcsVersion): JsonSchema {
  const closed = closedEverywhere(version)
  const since31 = atLeast(version, '3.1.0')
  const common = {
    ...idOf(version),
    authoritativeDefinitions,
    businessImpact: string,
    customProperties,
    description: string,
    dimension: {type: 'string', enum: QUALITY_DIMENSIONS},
    method: string,
    name: string,
    schedule: string,
    scheduler: string,
    severity: string,
    tags,
    type: {type: 'string', enum: ['text', 'library', 'sql', 'custom']},
    unit: string,
  }
  const libraryKeys = since31 ? {metric: {type: 'string', enum: QUALITY_METRICS}, rule: string, arguments: {type: 'object'}, ...OPERATORS} : {rule: string, ...OPERATORS}
  const libraryRequired = since31 ? ['metric'] : ['rule']
  // 3.0.x names no comparison for sql checks, yet its examples use them: known (no warning), not typed.
  const sqlKeys = since31 ? {query: string, ...OPERATORS} : {query: string, ...Object.fromEntries(Object.keys(OPERATORS).map((k) => [k, {}]))}
  const customKeys = {engine: string, implementation: {type: ['string', 'object']}}
  const checkOf = (own: Record<string, unknown>, required: string[], operators: boolean) => ({
    ...branch(common, own, {required, closed}),
    ...(since31 && operators ? exactlyOneOperator : {}),
  })
  const isType = (name: string) => ({type: 'object', required: ['type'], properties: {type: {const: name}}})
  const sql = checkOf(sqlKeys, ['query'], true)
  const custom = checkOf(customKeys, ['engine', 'implementation'], false)
  const other = {if: isType('sql'), then: sql, else: {if: isType('custom'), then: custom, else: branch(common, {}, {closed})}}
  if (!since31) {
    // Up to 3.0.2 a check without a type is a library check, as the official schema reads.
    return {type: 'object', properties: common, if: {type: 'object', properties: {type: {const: 'library'}}}, then: checkOf(libraryKeys, libraryRequired, false), else: other}
  }
  // 3.1.0: a `metric` makes any check a library check too, so a sql or custom check with a metric
  // is both at once and takes the keys of both.
  return {
    type: 'object',
    properties: common,
    if: {type: 'object', anyOf: [isType('library'), {required: ['metric']}]},
    then: {
      if: isType('sql'),
      then: checkOf({...libraryKeys, ...sqlKeys}, [...libraryRequired, 'query'], true),
      else: {if: isType('custom'), then: checkOf({...libraryKeys, ...customKeys}, [...libraryRequired, 'engine', 'implementation'], true), else: checkOf(libraryKeys, libraryRequired, true)},
    },
    else: other,
  }
}
