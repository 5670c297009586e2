import type {KindName} from '../../model/types.js'
import {resolveRelative} from '../../project/load.js'
import type {Resource} from '../../project/resource.js'
import {type StateRef, type ValidationContext, parseStateRef} from '../context.js'
import type {Finding} from '../finding.js'

type Segments = Array<string | number>

/** `ref`: every reference between resources resolves to something in the project. */
export function checkRefs(ctx: ValidationContext): Finding[] {
  const out: Finding[] = []
  const report = (r: Resource, at: Segments, message: string) =>
    out.push(r.source.finding(at, {rule: 'ref', severity: 'error', kind: r.kind, name: r.name, message}))

  const named = (r: Resource, at: Segments, kind: KindName, name: string | undefined) => {
    if (name === undefined || ctx.has(kind, name)) return
    const known = ctx.names(kind)
    report(r, at, `${at.join('.')}: no ${kind} named "${name}"; define it or use ${known.length > 0 ? `one of: ${known.join(', ')}` : `the name of a ${kind}`}`)
  }
  const state = (r: Resource, at: Segments, ref: StateRef | undefined, text: string) => {
    if (!ref) return
    const resolved = ctx.resolveState(ref)
    if (resolved !== 'unknown' && 'missing' in resolved) report(r, at, `${at.join('.')}: state "${text}" does not resolve: ${resolved.missing}`)
  }
  const entity = (r: Resource, entityName: string) => {
    if (ctx.entityMayExist(entityName)) return
    report(r, ['spec', 'entity'], `spec.entity: no DataSchema declares entity "${entityName}"; add a DataSchema with spec.entity: ${entityName} or fix the name`)
  }

  for (const r of ctx.all('DataDomain')) named(r, ['spec', 'mesh'], 'DataMesh', r.object.spec.mesh)
  for (const r of ctx.all('DataProduct')) named(r, ['spec', 'domain'], 'DataDomain', r.object.spec.domain)
  for (const r of ctx.all('DataRole')) {
    for (const [i, g] of r.object.spec.grants.entries()) {
      named(r, ['spec', 'grants', i, 'outputPort'], 'OutputPort', g.outputPort)
      named(r, ['spec', 'grants', i, 'storage'], 'DataStorage', g.storage)
    }
  }
  for (const r of ctx.all('DataContract')) {
    state(r, ['spec', 'schema'], parseStateRef(r.object.spec.schema), r.object.spec.schema)
    const ref = r.object.spec.documentRef?.path
    if (ref !== undefined && !ctx.project.contractDocuments.has(resolveRelative(r.source.file, ref))) {
      report(r, ['spec', 'documentRef', 'path'], `spec.documentRef.path: cannot read contract document "${ref}" (relative to ${r.source.file}); create it or fix the path`)
    }
  }
  for (const r of ctx.all('InputPort')) {
    entity(r, r.object.spec.entity)
    state(r, ['spec', 'schema'], parseStateRef(r.object.spec.schema), r.object.spec.schema)
  }
  for (const r of ctx.all('OutputPort')) {
    entity(r, r.object.spec.entity)
    state(r, ['spec', 'schema'], parseStateRef(r.object.spec.schema), r.object.spec.schema)
    named(r, ['spec', 'contract'], 'DataContract', r.object.spec.contract)
    named(r, ['spec', 'storage'], 'DataStorage', r.object.spec.storage)
  }
  for (const r of ctx.all('DataFlow')) {
    const spec = r.object.spec
    named(r, ['spec', 'schema'], 'DataSchema', spec.schema)
    named(r, ['spec', 'storage'], 'DataStorage', spec.storage)
    const schema = ctx.object('DataSchema', spec.schema)
    if (schema && !schema.spec.versions.some((v) => v.version === spec.version)) {
      report(r, ['spec', 'version'], `spec.version: DataSchema "${spec.schema}" has no version ${spec.version} (it has ${schema.spec.versions.map((v) => v.version).join(', ')})`)
      continue
    }
    const flowState = (at: Segments, s: string) => state(r, at, flowStateRef(spec.schema, spec.version, s), s)
    for (const [i, input] of (spec.inputs ?? []).entries()) {
      named(r, ['spec', 'inputs', i, 'port'], 'InputPort', input.port)
      flowState(['spec', 'inputs', i, 'state'], input.state)
    }
    for (const [i, t] of spec.transitions.entries()) {
      for (const [j, from] of t.from.entries()) flowState(['spec', 'transitions', i, 'from', j], from)
      flowState(['spec', 'transitions', i, 'to'], t.to)
    }
    for (const [i, output] of (spec.outputs ?? []).entries()) {
      named(r, ['spec', 'outputs', i, 'port'], 'OutputPort', output.port)
      flowState(['spec', 'outputs', i, 'state'], output.state)
    }
  }
  for (const r of ctx.all('DataWorkflow')) {
    const spec = r.object.spec
    named(r, ['spec', 'flow'], 'DataFlow', spec.flow)
    for (const [i, trigger] of (spec.triggers ?? []).entries()) named(r, ['spec', 'triggers', i, 'port'], 'InputPort', trigger.port)
    const flow = ctx.object('DataFlow', spec.flow)
    const activities = new Set(spec.activities.map((a) => a.name))
    for (const [i, a] of spec.activities.entries()) {
      if (flow && !flow.spec.transitions.some((t) => t.name === a.transition)) {
        report(r, ['spec', 'activities', i, 'transition'], `spec.activities[${i}].transition: DataFlow "${spec.flow}" has no transition "${a.transition}" (it has ${flow.spec.transitions.map((t) => t.name).join(', ')})`)
      }
      for (const [j, dep] of (a.dependsOn ?? []).entries()) {
        if (!activities.has(dep)) {
          report(r, ['spec', 'activities', i, 'dependsOn', j], `activity "${a.name}" depends on "${dep}", which is not an activity of this workflow (it has ${[...activities].join(', ')})`)
        }
      }
    }
  }
  return out
}

/** A DataFlow's state as a full ref: a bare name means the flow's own schema and version. */
export function flowStateRef(schema: string, version: string, state: string): StateRef | undefined {
  return state.includes('@') ? parseStateRef(state) : {schema, version, state}
}

export function flowStateKey(schema: string, version: string, state: string): string {
  const ref = flowStateRef(schema, version, state)
  return ref ? `${ref.schema}@${ref.version}/${ref.state}` : state
}
