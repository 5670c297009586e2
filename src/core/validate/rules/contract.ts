import type {DataContract} from '../../model/types.js'
import {resolveRelative} from '../../project/load.js'
import type {Resource} from '../../project/resource.js'
import type {SourceDocument} from '../../project/source.js'
import {type SchemaField, type ValidationContext, parseStateRef} from '../context.js'
import type {Finding, Severity} from '../finding.js'
import {checkOdcsDocument, isObject} from '../odcs/check.js'
import {ODCS_VERSIONS, type OdcsVersion, logicalTypes, odcsVersion} from '../odcs/versions.js'

/** The ODCS logical types a dappmesh field type agrees with. */
const AGREES: Record<SchemaField['type'], readonly string[]> = {
  string: ['string'], text: ['string'], bytes: ['string'],
  integer: ['integer'], long: ['integer'],
  number: ['number'], decimal: ['number'],
  boolean: ['boolean'],
  date: ['date'], time: ['date', 'time'], timestamp: ['date', 'timestamp'],
  object: ['object'], json: ['object'],
  array: ['array'],
}

const SUPPORTED = `${ODCS_VERSIONS.slice(0, -1).join(', ')} and ${ODCS_VERSIONS.at(-1)}`

type Report = (at: Array<string | number>, message: string, options?: {key?: boolean; severity?: Severity}) => void

/**
 * `contract`: the ODCS document is valid by the rules of its version, and agrees with the schema
 * state it is bound to. Both are checked whatever the other finds, so one run shows every problem.
 */
export function checkContracts(ctx: ValidationContext): Finding[] {
  const out: Finding[] = []
  for (const r of ctx.all('DataContract')) {
    const located = documentOf(ctx, r, out)
    if (!located) continue // a missing documentRef file is a `ref` finding
    const {document, source, base} = located
    const report: Report = (at, message, options = {}) =>
      out.push(source.finding([...base, ...at], {rule: 'contract', severity: options.severity ?? 'error', kind: r.kind, name: r.name, message}, {key: options.key}))

    const declared = r.object.spec.specificationVersion
    const version = odcsVersion(declared)
    if (version) {
      checkDocument(version, declared, document, report)
    } else {
      out.push(r.source.finding(['spec', 'specificationVersion'], {
        rule: 'contract', severity: 'error', kind: r.kind, name: r.name,
        message: `ODCS ${declared} is not a version dappmesh knows; use one of ${SUPPORTED}`,
      }))
    }
    checkBinding(ctx, r, document, version ?? ODCS_VERSIONS.at(-1)!, report)
  }
  return out
}

/** The document by the rules of its version, and its apiVersion against the DataContract's. */
function checkDocument(version: OdcsVersion, declared: string, document: unknown, report: Report): void {
  const problems = checkOdcsDocument(version, document)
  for (const p of problems) report(p.segments, p.message, p)
  if (!isObject(document)) return
  const {apiVersion} = document
  const refused = problems.some((p) => p.segments.length === 1 && p.segments[0] === 'apiVersion')
  if (typeof apiVersion === 'string' && !refused && apiVersion !== `v${version}`) {
    report(['apiVersion'], `contract document says apiVersion ${apiVersion} but the DataContract says specificationVersion ${declared}; make them agree`)
  }
}

/** The contract's properties against the fields of the bound schema state. */
function checkBinding(ctx: ValidationContext, r: Resource<'DataContract'>, document: unknown, version: OdcsVersion, report: Report): void {
  const bound = r.object.spec.schema
  const ref = parseStateRef(bound)
  const resolved = ref ? ctx.resolveState(ref) : 'unknown'
  if (!ref || resolved === 'unknown' || 'missing' in resolved) return // reported by `ref`
  if (!isObject(document)) return // reported by the document's schema
  const objects = Array.isArray(document.schema) ? document.schema : []
  if (objects.length === 0) {
    if (document.schema === undefined || Array.isArray(document.schema)) report([], `contract document has no schema; add schema[0] with the properties of ${bound}`)
    return
  }
  let index = objects.findIndex((o) => isObject(o) && (o.name === ref.state || o.name === ref.schema))
  if (index < 0 && objects.length === 1) index = 0
  if (index < 0) {
    report(['schema'], `no object in the contract's schema is named "${ref.state}" or "${ref.schema}"; name the object for the bound state`)
    return
  }
  const object: unknown = objects[index]
  const properties = isObject(object) && Array.isArray(object.properties) ? object.properties : []
  const fields = new Map(resolved.state.fields.map((f) => [f.name, f]))
  const seen = new Set<string>()
  for (const [i, p] of properties.entries()) {
    if (!isObject(p) || typeof p.name !== 'string') continue // the document's schema says what is wrong
    seen.add(p.name)
    const field = fields.get(p.name)
    const at = ['schema', index, 'properties', i]
    if (!field) {
      report([...at, 'name'], `property "${p.name}" is not a field of ${bound}; remove it from the contract or add the field to the schema`)
      continue
    }
    if (typeof p.logicalType === 'string' && !AGREES[field.type].includes(p.logicalType)) {
      const allowed = AGREES[field.type].filter((t) => logicalTypes(version).includes(t))
      report([...at, 'logicalType'], `property "${p.name}" is ${p.logicalType} in the contract but ${field.type} in ${bound}; use logicalType ${allowed.join(' or ')}`)
    }
    if (field.required && p.required === false) {
      report([...at, 'required'], `property "${p.name}" is required in ${bound} but not in the contract; set required: true`)
    }
  }
  for (const field of resolved.state.fields) {
    if (field.required && !seen.has(field.name)) {
      report(['schema', index, 'properties'], `required field "${field.name}" of ${bound} is missing from the contract; add a property for it`)
    }
  }
}

interface LocatedDocument {
  document: unknown
  source: SourceDocument
  /** Where the document starts inside `source`: [] for its own file, spec.document inline. */
  base: Array<string | number>
}

function documentOf(ctx: ValidationContext, r: Resource<'DataContract'>, out: Finding[]): LocatedDocument | undefined {
  const spec: DataContract['spec'] = r.object.spec
  if (spec.document !== undefined) return {document: spec.document, source: r.source, base: ['spec', 'document']}
  const file = ctx.project.contractDocuments.get(resolveRelative(r.source.file, spec.documentRef!.path))
  if (!file) return undefined
  if (file.documents.length === 0) {
    // Unparseable: its `yaml` findings say why. Empty: say so here.
    if (file.findings.length === 0) {
      out.push(r.source.finding(['spec', 'documentRef', 'path'], {rule: 'contract', severity: 'error', kind: r.kind, name: r.name, message: `contract document ${file.file} is empty; write the ODCS document there`}))
    }
    return undefined
  }
  return {document: file.documents[0].object, source: file.documents[0], base: []}
}

/** The ODCS document of a DataContract (inline or from its documentRef file), or undefined if it cannot be read. */
export function contractDocument(ctx: ValidationContext, r: Resource<'DataContract'>): unknown {
  return documentOf(ctx, r, [])?.document
}
