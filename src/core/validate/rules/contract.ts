import type {DataContract} from '../../model/types.js'
import {resolveRelative} from '../../project/load.js'
import type {Resource} from '../../project/resource.js'
import type {SourceDocument} from '../../project/source.js'
import {compile} from '../ajv.js'
import {type SchemaField, type ValidationContext, parseStateRef} from '../context.js'
import {describeErrors} from '../describe-error.js'
import type {Finding} from '../finding.js'
import {ODCS_LOGICAL_TYPES, odcsSchema} from '../odcs-schema.js'

const schemas = {'3.0': odcsSchema('3.0'), later: odcsSchema('later')}

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

/** `contract`: the ODCS document is valid, and agrees with the schema state it is bound to. */
export function checkContracts(ctx: ValidationContext): Finding[] {
  const out: Finding[] = []
  for (const r of ctx.all('DataContract')) {
    const located = documentOf(ctx, r, out)
    if (!located) continue // a missing documentRef file is a `ref` finding
    const {document, source, base} = located
    const report = (at: Array<string | number>, message: string, key = false) =>
      out.push(source.finding([...base, ...at], {rule: 'contract', severity: 'error', kind: r.kind, name: r.name, message}, {key}))

    const minor = /^v?3\.0\./.test(r.object.spec.specificationVersion) ? '3.0' : 'later'
    if (!/^v?3\./.test(r.object.spec.specificationVersion)) {
      out.push(r.source.finding(['spec', 'specificationVersion'], {rule: 'contract', severity: 'error', kind: r.kind, name: r.name, message: `ODCS ${r.object.spec.specificationVersion} is not supported; use a 3.x version such as 3.0.0`}))
      continue
    }
    const validate = compile(schemas[minor])
    if (!validate(document)) {
      for (const d of describeErrors(validate.errors ?? [])) report(d.segments, `contract document: ${d.message}`, d.key)
      continue
    }
    const doc = document as any
    const wanted = r.object.spec.specificationVersion.replace(/^v?/, 'v')
    if (doc.apiVersion !== wanted) report(['apiVersion'], `contract document says apiVersion ${doc.apiVersion} but the DataContract says specificationVersion ${r.object.spec.specificationVersion}; make them agree`)

    const ref = parseStateRef(r.object.spec.schema)
    const resolved = ref ? ctx.resolveState(ref) : 'unknown'
    if (resolved === 'unknown' || 'missing' in resolved) continue // reported by `ref`
    const objects: any[] = doc.schema ?? []
    if (objects.length === 0) {
      report([], `contract document has no schema; add schema[0] with the properties of ${r.object.spec.schema}`)
      continue
    }
    let index = objects.findIndex((o) => o.name === ref!.state || o.name === ref!.schema)
    if (index < 0 && objects.length === 1) index = 0
    if (index < 0) {
      report(['schema'], `no object in the contract's schema is named "${ref!.state}" or "${ref!.schema}"; name the object for the bound state`)
      continue
    }
    const fields = new Map(resolved.state.fields.map((f) => [f.name, f]))
    const properties: any[] = objects[index].properties ?? []
    const seen = new Set<string>()
    for (const [i, p] of properties.entries()) {
      seen.add(p.name)
      const field = fields.get(p.name)
      const at = ['schema', index, 'properties', i]
      if (!field) {
        report([...at, 'name'], `property "${p.name}" is not a field of ${r.object.spec.schema}; remove it from the contract or add the field to the schema`)
        continue
      }
      if (p.logicalType !== undefined && !AGREES[field.type].includes(p.logicalType)) {
        const allowed = AGREES[field.type].filter((t) => ODCS_LOGICAL_TYPES[minor].includes(t))
        report([...at, 'logicalType'], `property "${p.name}" is ${p.logicalType} in the contract but ${field.type} in ${r.object.spec.schema}; use logicalType ${allowed.join(' or ')}`)
      }
      if (field.required && p.required === false) {
        report([...at, 'required'], `property "${p.name}" is required in ${r.object.spec.schema} but not in the contract; set required: true`)
      }
    }
    for (const field of resolved.state.fields) {
      if (field.required && !seen.has(field.name)) {
        report(['schema', index, 'properties'], `required field "${field.name}" of ${r.object.spec.schema} is missing from the contract; add a property for it`)
      }
    }
  }
  return out
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
