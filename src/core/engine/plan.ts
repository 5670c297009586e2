import type {DataFlow} from '../model/types.js'
import type {Resource} from '../project/resource.js'
import type {StorageTarget} from '../storage/driver.js'
import type {ValidationContext} from '../validate/context.js'
import {flowStateRef} from '../validate/rules/ref.js'
import {dependencyOrder} from './order.js'
import {type StateTable, stateTable} from './types.js'

/** The storage of a product with no analytics or operational DataStorage (§7). */
export const EMBEDDED_STORAGE: StorageTarget = {name: 'embedded', engine: 'duckdb'}

export interface PlannedState {
  /** `schema@version/state`. */
  ref: string
  schema: string
  state: string
  /** As the flow that owns it (same schema) names it in SQL. */
  table: StateTable
  storage: StorageTarget
}

export interface PlannedTransition {
  name: string
  /** The DataFlow's metadata.name. */
  flow: string
  flowSchema: string
  kind: string
  /** State refs. */
  from: string[]
  to: string
  sql?: string
  image?: string
  /** Where the transition is declared, for messages: `file:line`. */
  at: string
}

export interface PlannedInput {
  flow: string
  port: string
  /** State ref the port feeds. */
  state: string
}

export interface PlannedOutput {
  flow: string
  port: string
  state: string
}

export interface RunPlan {
  product: string
  root: string
  flows: string[]
  states: Map<string, PlannedState>
  /** In dependency order across every flow. */
  transitions: PlannedTransition[]
  inputs: PlannedInput[]
  outputs: PlannedOutput[]
}

/**
 * Where a flow's states live (§7): `spec.storage`, else the product's analytics storage, else its
 * operational one, else the embedded default.
 */
export function flowStorage(ctx: ValidationContext, flow: DataFlow): StorageTarget {
  const storages = ctx.all('DataStorage')
  const named = flow.spec.storage ? storages.find((s) => s.name === flow.spec.storage) : undefined
  const chosen = named ?? storages.find((s) => s.object.spec.class === 'analytics') ?? storages.find((s) => s.object.spec.class === 'operational')
  if (!chosen) return EMBEDDED_STORAGE
  return {name: chosen.name, engine: chosen.object.spec.engine, spec: chosen.object.spec as Record<string, unknown>}
}

/**
 * The states, transitions and ports of a valid project's flows. A state belongs to the flow of
 * its schema and version (that flow's storage holds it); a state of another schema that no
 * selected flow owns is read from the storage of the first flow that mentions it.
 */
export function planRun(ctx: ValidationContext, root: string): RunPlan {
  const flows: Array<Resource<'DataFlow'>> = ctx.all('DataFlow')
  const product = ctx.all('DataProduct')[0]?.name ?? 'product'
  const states = new Map<string, PlannedState>()
  const storageOf = new Map(flows.map((f) => [f.name, flowStorage(ctx, f.object)]))

  const ensureState = (ref: string, flow: Resource<'DataFlow'>) => {
    const parsed = flowStateRef(flow.object.spec.schema, flow.object.spec.version, ref)
    if (!parsed) return undefined
    const key = `${parsed.schema}@${parsed.version}/${parsed.state}`
    const owner = flows.find((f) => f.object.spec.schema === parsed.schema && f.object.spec.version === parsed.version)
    if (states.has(key) && !owner) return key
    const resolved = ctx.resolveState(parsed)
    if (resolved === 'unknown' || 'missing' in resolved) return undefined
    const home = owner ?? flow
    if (!states.has(key) || owner === flow) {
      states.set(key, {
        ref: key,
        schema: parsed.schema,
        state: parsed.state,
        table: stateTable(parsed, resolved.state, home.object.spec.schema),
        storage: storageOf.get(home.name)!,
      })
    }
    return key
  }

  const transitions: PlannedTransition[] = []
  const inputs: PlannedInput[] = []
  const outputs: PlannedOutput[] = []
  for (const flow of flows) {
    const spec = flow.object.spec
    for (const input of spec.inputs ?? []) {
      const state = ensureState(input.state, flow)
      if (state) inputs.push({flow: flow.name, port: input.port, state})
    }
    for (const [i, t] of spec.transitions.entries()) {
      const from = t.from.map((s) => ensureState(s, flow)).filter((s): s is string => s !== undefined)
      const to = ensureState(t.to, flow)
      if (!to) continue
      const pos = flow.source.hasPositions ? flow.source.locate(['spec', 'transitions', i, t.sql === undefined ? 'name' : 'sql']) : undefined
      transitions.push({
        name: t.name,
        flow: flow.name,
        flowSchema: spec.schema,
        kind: t.kind,
        from,
        to,
        ...(t.sql !== undefined && {sql: t.sql}),
        ...(t.image !== undefined && {image: t.image}),
        at: pos ? `${flow.source.file}:${pos.line}` : flow.source.file,
      })
    }
    for (const output of spec.outputs ?? []) {
      const state = ensureState(output.state, flow)
      if (state) outputs.push({flow: flow.name, port: output.port, state})
    }
  }
  return {product, root, flows: flows.map((f) => f.name), states, transitions: dependencyOrder(transitions), inputs, outputs}
}
