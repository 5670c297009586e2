import {type JsonSchema, RELATIONSHIP_REF, anyValue, authoritativeDefinitions, boolean, branch, customProperties, idOf, integer, number, object, qualityChecks, string, tags} from './common.js'
import {type OdcsVersion, atLeast, logicalTypes} from './versions.js'

/*
 * The `schema` section: objects (tables, topics ...), their properties, and the items of array
 * properties, nested to any depth through the `definitions` below. Every level is closed in every
 * version, as in the official schemas.
 */

const count = {type: 'integer', minimum: 0} as const
const ref = {type: 'string', pattern: RELATIONSHIP_REF}
const refs = {type: 'array', minItems: 1, items: ref}

/** What `logicalTypeOptions` may hold for each logical type (closed: a misspelt option is an error). */
function typeOptions(version: OdcsVersion): Record<string, JsonSchema> {
  const since31 = atLeast(version, '3.1.0')
  // 3.1.0 made the exclusive bounds values of their own instead of flags on maximum/minimum.
  const exclusiveDate = since31 ? string : boolean
  const exclusiveNumber = since31 ? number : boolean
  const numeric = (formats: string[]) =>
    object(
      {multipleOf: {type: 'number', exclusiveMinimum: 0}, maximum: number, exclusiveMaximum: exclusiveNumber, minimum: number, exclusiveMinimum: exclusiveNumber, format: {type: 'string', enum: formats}},
      {closed: true},
    )
  const options: Record<string, JsonSchema> = {
    string: object({minLength: count, maxLength: count, pattern: string, format: string}, {closed: true}),
    date: object({format: string, exclusiveMaximum: exclusiveDate, maximum: string, exclusiveMinimum: exclusiveDate, minimum: string}, {closed: true}),
    integer: numeric(['i8', 'i16', 'i32', 'i64', 'i128', 'u8', 'u16', 'u32', 'u64', 'u128']),
    number: numeric(['f32', 'f64']),
    object: object({maxProperties: count, minProperties: count, required: {type: 'array', items: string, minItems: 1, uniqueItems: true}}, {closed: true}),
    array: object({maxItems: count, minItems: count, uniqueItems: boolean}, {closed: true}),
  }
  if (since31) {
    const time = object(
      {format: string, exclusiveMaximum: string, maximum: string, exclusiveMinimum: string, minimum: string, timezone: boolean, defaultTimezone: string},
      {closed: true},
    )
    options.timestamp = time
    options.time = time
  }
  return options
}

function elementKeys(version: OdcsVersion): Record<string, unknown> {
  return {
    ...idOf(version),
    name: string,
    physicalType: string,
    description: string,
    businessName: string,
    authoritativeDefinitions,
    tags,
    ...(atLeast(version, '3.0.1') ? {customProperties} : {}),
  }
}

/** A relationship (3.1.0), declared on an object or on a property. */
function relationship(level: 'schema' | 'property'): JsonSchema {
  const common = {type: {type: 'string', enum: ['foreignKey']}, to: {type: ['string', 'array']}, customProperties}
  if (level === 'property') {
    // On a property, `from` is the property itself.
    return {...object(common, {required: ['to'], closed: true}), if: {type: 'object', properties: {to: {type: 'string'}}}, then: {properties: {to: ref}}, else: {properties: {to: refs}}}
  }
  // On an object, `from` and `to` are both one reference or both lists of them.
  return {
    ...object({...common, from: {type: ['string', 'array']}}, {required: ['from', 'to'], closed: true}),
    if: {type: 'object', properties: {from: {type: 'string'}}},
    then: {properties: {from: ref, to: ref}},
    else: {properties: {from: refs, to: refs}},
  }
}

/**
 * A property (`item` for the `items` of an array property, which needs no name). One if/then
 * branch per logical type, listing exactly the keys that type allows: its own
 * `logicalTypeOptions`, `properties` for an object, `items` for an array. Without a logical type
 * every type's rules apply at once (as the official if/then chain reads), so `properties` and
 * `items` are both allowed and `logicalTypeOptions` must be empty.
 */
function property(version: OdcsVersion, item: boolean): JsonSchema {
  const types = logicalTypes(version)
  const options = typeOptions(version)
  const base = {
    ...elementKeys(version),
    primaryKey: boolean,
    primaryKeyPosition: integer,
    logicalType: {type: 'string', enum: types},
    logicalTypeOptions: {type: 'object'},
    physicalType: string,
    ...(atLeast(version, '3.0.2') ? {physicalName: string} : {}),
    required: boolean,
    unique: boolean,
    partitioned: boolean,
    partitionKeyPosition: integer,
    classification: string,
    encryptedName: string,
    transformSourceObjects: {type: 'array', items: string},
    transformLogic: string,
    transformDescription: string,
    examples: {type: 'array', items: anyValue},
    criticalDataElement: boolean,
    quality: qualityChecks,
    ...(atLeast(version, '3.1.0') ? {relationships: {type: 'array', items: relationship('property')}} : {}),
  }
  const properties = {type: 'array', items: {$ref: '#/definitions/property'}}
  const items = {$ref: '#/definitions/item'}
  // Up to 3.0.2 an array's item may hold `properties` whatever its type; 3.1.0 closed that.
  const nested = item && !atLeast(version, '3.1.0') ? {properties} : {}
  const required = item ? [] : ['name']
  const typed = {...base, ...nested}
  const of = (own: Record<string, unknown>) => branch(typed, own, {closed: true})

  const withOptions = Object.keys(options)
  const perType = withOptions.map((type) => {
    const extra: Record<string, unknown> = {logicalTypeOptions: options[type]}
    if (type === 'object') extra.properties = properties
    if (type === 'array') extra.items = items
    return {if: {type: 'object', required: ['logicalType'], properties: {logicalType: {const: type}}}, then: of(extra)}
  })
  return {
    ...object(typed, {required, closed: false}),
    // Exactly one of these applies (flat, not nested else-chains: the compiled code stays small).
    allOf: [
      {if: {type: 'object', not: {required: ['logicalType']}}, then: of({logicalTypeOptions: {type: 'object', maxProperties: 0}, properties, items})},
      ...perType,
      // boolean, or a logical type the enum refuses
      {if: {type: 'object', required: ['logicalType'], properties: {logicalType: {not: {enum: withOptions}}}}, then: of({})},
    ],
  }
}

/** The definitions the property schemas refer to, for the document schema's `definitions`. */
export function elementDefinitions(version: OdcsVersion): Record<string, JsonSchema> {
  return {property: property(version, false), item: property(version, true)}
}

/** An object of `schema`: a table, view, topic or file, and its properties. */
export function schemaObject(version: OdcsVersion): JsonSchema {
  const since31 = atLeast(version, '3.1.0')
  return object(
    {
      ...elementKeys(version),
      logicalType: {type: 'string', enum: since31 ? ['object', 'blob'] : ['object']},
      physicalName: string,
      dataGranularityDescription: string,
      properties: {type: 'array', items: {$ref: '#/definitions/property'}},
      quality: qualityChecks,
      ...(since31 ? {relationships: {type: 'array', items: relationship('schema')}} : {}),
    },
    {required: ['name'], closed: true},
  )
}
