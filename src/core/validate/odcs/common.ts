import {type OdcsVersion, atLeast, closedEverywhere} from './versions.js'

/*
 * Building blocks of the ODCS document schemas. Formats are written as patterns: the precompiled
 * validators then need no format library at run time, and describe-error.ts words each one.
 */

/** RFC 3339 date-time, as `contractCreatedTs` wants it (e.g. 2024-09-17T11:58:08Z). */
export const DATE_TIME = '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$'
/** A full date (e.g. 2024-09-17). */
export const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
/** A URI: a scheme, a colon, and no white space (s3://bucket/path/*.parquet is one). */
export const URI = '^[A-Za-z][A-Za-z0-9+.-]*:[^\\s]*$'
/** A reference to a property: `object.property`, or a path such as `schema/orders/properties/id`. */
export const RELATIONSHIP_REF =
  '^(?:[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*|(?:(?:https?://)?[A-Za-z0-9._/-]+\\.yaml#)?/?[A-Za-z_][A-Za-z0-9_]*/[A-Za-z0-9_-]+(?:/[A-Za-z_][A-Za-z0-9_]*/[A-Za-z0-9_-]+)*)$'
/** An SFTP location. */
export const SFTP_URI = '^sftp://[^\\s]*$'
/** The `id` 3.1.0 gives to most elements. */
export const STABLE_ID = '^[A-Za-z0-9_-]+$'

export type JsonSchema = Record<string, unknown>

export const string = {type: 'string'} as const
export const boolean = {type: 'boolean'} as const
export const integer = {type: 'integer'} as const
export const number = {type: 'number'} as const
export const dateTime = {type: 'string', pattern: DATE_TIME} as const
export const date = {type: 'string', pattern: DATE} as const
export const uri = {type: 'string', pattern: URI} as const
export const stableId = {type: 'string', pattern: STABLE_ID} as const
export const tags = {type: 'array', items: string} as const
/** Any JSON value: what `examples` and `customProperties.value` may hold. */
export const anyValue = {type: ['string', 'number', 'boolean', 'null', 'array', 'object']} as const
export const anyScalar = {type: ['string', 'number', 'boolean', 'null']} as const

/**
 * An object with `properties`; closed (unknown keys are errors) where the version's official
 * schema closes it, else open like the standard, so that agreement with the standard holds.
 */
export function object(properties: Record<string, unknown>, options: {required?: string[]; closed: boolean}): JsonSchema {
  return {
    type: 'object',
    ...(options.required && options.required.length > 0 ? {required: options.required} : {}),
    properties,
    ...(options.closed ? {additionalProperties: false} : {}),
  }
}

/**
 * A branch of an if/else chain over an object whose `common` keys the enclosing schema already
 * types: the branch types only its own keys, and when closed lists the common ones as allowed, so
 * a wrong value is reported once and an unknown key by the branch that knows every allowed key.
 */
export function branch(common: Record<string, unknown>, own: Record<string, unknown>, options: {required?: string[]; closed: boolean}): JsonSchema {
  const allowed = options.closed ? Object.fromEntries(Object.keys(common).map((k) => [k, {}])) : {}
  return object({...allowed, ...own}, options)
}

/** Keys 3.1.0 adds to almost every element. */
export function idOf(version: OdcsVersion): Record<string, unknown> {
  return atLeast(version, '3.1.0') ? {id: stableId} : {}
}

export function customProperty(version: OdcsVersion): JsonSchema {
  const closed = closedEverywhere(version)
  return object(
    {...idOf(version), property: string, value: anyValue, ...(closed ? {description: string} : {})},
    {required: closed ? ['property', 'value'] : [], closed},
  )
}

export function authoritativeDefinition(version: OdcsVersion): JsonSchema {
  const closed = closedEverywhere(version)
  return object({...idOf(version), url: string, type: string, ...(closed ? {description: string} : {})}, {required: ['url', 'type'], closed})
}

/*
 * What many elements share is defined once (see `sharedDefinitions` in schema.ts) and referred to,
 * which keeps the schemas, and the validators compiled from them, several times smaller.
 */
export const customProperties = {type: 'array', items: {$ref: '#/definitions/customProperty'}} as const
export const authoritativeDefinitions = {type: 'array', items: {$ref: '#/definitions/authoritativeDefinition'}} as const
export const qualityChecks = {type: 'array', items: {$ref: '#/definitions/qualityCheck'}} as const
