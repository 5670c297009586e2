import {compile, odcsModule} from '../ajv.js'
import {describeErrors} from '../describe-error.js'
import type {Severity} from '../finding.js'
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
 * refuses it, and warnings for what that version deprecates.
 */
export function checkOdcsDocument(version: OdcsVersion, document: unknown): DocumentProblem[] {
  const validate = compile(schemaOf(version), odcsModule(version))
  const problems: DocumentProblem[] = validate(document)
    ? []
    : describeErrors(validate.errors ?? []).map((d) => ({...d, severity: 'error', message: `contract document (ODCS ${version}): ${reworded(d.segments, d.message)}`}))
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
