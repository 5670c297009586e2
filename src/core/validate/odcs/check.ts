import {compile, odcsModule} from '../ajv.js'
import {describeErrors} from '../describe-error.js'
import type {Severity} from '../finding.js'
import {unknownKeysInOpenObjects} from './open-keys.js'
import {odcsSchema} from './schema.js'
import type {OdcsVersion} from './versions.js'

/** One problem of a contract document, located by its path inside the document. */
export interface DocumentProblem {
  segments: string[]
  /** Point at the key rather than the value (unknown fields). */
  key: boolean
  severity: Severity
  message: string
}

/** Built on first use: most projects bind one or two ODCS versions, if any. */
const schemas = new Map<OdcsVersion, Record<string, unknown>>()
function schemaOf(version: OdcsVersion): Record<string, unknown> {
  let schema = schemas.get(version)
  if (!schema) schemas.set(version, (schema = odcsSchema(version)))
  return schema
}

/**
 * What is wrong with an ODCS document by the rules of `version`: errors where its official schema
 * refuses it; warnings for unknown keys where the version leaves the object open, and for what it
 * deprecates.
 */
export function checkOdcsDocument(version: OdcsVersion, document: unknown): DocumentProblem[] {
  const validate = compile(schemaOf(version), odcsModule(version))
  const problems: DocumentProblem[] = validate(document)
    ? []
    : describeErrors(validate.errors ?? []).map((d) => ({...d, severity: 'error', message: `contract document (ODCS ${version}): ${reworded(d.segments, d.message)}`}))
  const errors = new Set(problems.map((p) => p.segments.join('/')))
  for (const open of unknownKeysInOpenObjects(schemaOf(version), document)) {
    // Which keys an object takes depends on its type: while that is wrong, say nothing of them.
    const parent = open.segments.slice(0, -1).join('/')
    if (errors.has(parent) || errors.has(`${parent}/type`) || errors.has(`${parent}/logicalType`)) continue
    problems.push({
      segments: open.segments,
      key: true,
      severity: 'warning',
      message: `contract document (ODCS ${version}): "${open.segments.join('.')}" is not an ODCS field (known here: ${open.known.join(', ')}); ODCS ${version} lets it pass, but fix its spelling or move it under customProperties`,
    })
  }
  if (version === '3.1.0' && isObject(document) && Array.isArray(document.team)) {
    problems.push({segments: ['team'], key: false, severity: 'warning', message: 'team as a list is deprecated since ODCS 3.1.0; write team: {members: [...]} instead'})
  }
  return problems
}

/** Messages that say more in the words of ODCS than the generic ones can. */
function reworded(segments: string[], message: string): string {
  if (segments.at(-1) === 'logicalTypeOptions' && message.endsWith('must be empty here')) {
    return `${segments.join('.')} applies to a logicalType, and this property has none; set its logicalType`
  }
  return message
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
