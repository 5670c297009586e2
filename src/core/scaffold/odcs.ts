/**
 * The properties of an ODCS v3.0 contract document, derived from the schema state it is bound
 * to, so a scaffolded contract agrees with its schema by construction.
 */
import type {DataSchema} from '../model/types.js'

type Field = DataSchema['spec']['versions'][number]['states'][number]['fields'][number]

/** The ODCS 3.0 logical type of each dappmesh field type (DESIGN §3's agreement table). */
const LOGICAL_TYPE: Record<Field['type'], string> = {
  string: 'string', text: 'string', bytes: 'string',
  integer: 'integer', long: 'integer',
  number: 'number', decimal: 'number',
  boolean: 'boolean',
  date: 'date', time: 'date', timestamp: 'date',
  object: 'object', json: 'object',
  array: 'array',
}

export interface OdcsProperty {
  name: string
  logicalType: string
  required?: boolean
  primaryKey?: boolean
  unique?: boolean
  classification?: string
  description?: string
  [key: string]: string | boolean | undefined
}

export function odcsProperties(fields: readonly Field[]): OdcsProperty[] {
  return fields.map((f) => {
    const p: OdcsProperty = {name: f.name, logicalType: LOGICAL_TYPE[f.type]}
    if (f.required) p.required = true
    if (f.primaryKey) p.primaryKey = true
    if (f.unique) p.unique = true
    if (f.classification) p.classification = f.classification
    if (f.description) p.description = f.description
    return p
  })
}
