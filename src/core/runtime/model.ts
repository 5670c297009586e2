import {type StateTable, stateTable} from '../engine/types.js'
import type {DataFlow, DataRole, DataWorkflow, InputPort, OutputPort} from '../model/types.js'
import {resolveRelative} from '../project/load.js'
import {type SchemaField, type ValidationContext, parseStateRef} from '../validate/context.js'

/** One column of a served or ingested state, in the order the DataSchema declares it. */
export interface RuntimeColumn {
  name: string
  type: SchemaField['type']
  required: boolean
  primaryKey: boolean
}

/** A state as the runtime reads or writes it: its table in the storage and its columns. */
export interface RuntimeState {
  /** `schema@version/state` */
  ref: string
  /** The table that holds it in its storage: `<schema>__<state>` (the engine's naming, so flows of several entities share a storage). */
  table: string
  columns: RuntimeColumn[]
  primaryKey: string[]
  /** The same state as the engine's schema checks take it. */
  engine: StateTable
}

export interface ServedContract {
  name: string
  /** id and version of the ODCS document (null when the document does not say). */
  id: string | null
  version: string | null
  document: unknown
}

export interface ServedPort {
  name: string
  type: OutputPort['spec']['type']
  schema: string
  state: RuntimeState
  contract: ServedContract | null
}

export interface IngestPort {
  name: string
  schema: string
  state: RuntimeState
  source: InputPort['spec']['source']
  /** For a `product` source: id and version of the consumer's own copy of `source.contract`, when it has one. */
  expected?: {id: string | null; version: string | null}
}

/**
 * What the runtime serves, resolved once from the product's resources (from a project on disk or
 * from the API server): the HTTP handlers never walk resources or parse state refs themselves.
 */
export interface RuntimeModel {
  product: string
  namespace: string | null
  ports: Map<string, ServedPort>
  inputs: Map<string, IngestPort>
  workflows: Map<string, DataWorkflow>
  roles: DataRole[]
  /** The storage each state lives in (by state ref), per DESIGN §7's defaults. */
  stateStorage: Map<string, string>
  /** Every storage a state lives in, with its engine (`embedded` is the default duckdb file). */
  storages: Map<string, string>
  /** The DataStorage spec of each storage (undefined for the embedded default): what its driver connects with. */
  storageSpecs: Map<string, Record<string, unknown> | undefined>
  /** The state refs each DataFlow writes or reads, by flow name. */
  flowStates: Map<string, string[]>
  flows: Map<string, RuntimeFlow>
}

/** A DataFlow as a run executes it: its transitions, and its states by the name its SQL uses. */
export interface RuntimeFlow {
  transitions: DataFlow['spec']['transitions']
  /** `raw` for a state of the flow's own schema, `<schema>__<state>` for another schema's. */
  states: Map<string, RuntimeState>
}

/** The storage name of the embedded default, when a product declares no DataStorage it can use. */
export const EMBEDDED_STORAGE = 'embedded'

/** Builds the runtime's model from a validated project (every reference resolves). */
export function runtimeModel(ctx: ValidationContext, namespace: string | null = null): RuntimeModel {
  const product = ctx.all('DataProduct')[0]?.name ?? 'product'
  const ports = new Map<string, ServedPort>()
  for (const r of ctx.all('OutputPort')) {
    const state = resolveState(ctx, r.object.spec.schema)
    if (!state) continue
    ports.set(r.name, {name: r.name, type: r.object.spec.type, schema: r.object.spec.schema, state, contract: contractOf(ctx, r.object.spec.contract)})
  }
  const inputs = new Map<string, IngestPort>()
  for (const r of ctx.all('InputPort')) {
    const state = resolveState(ctx, r.object.spec.schema)
    if (!state) continue
    const copy = r.object.spec.source.type === 'product' ? contractOf(ctx, r.object.spec.source.contract) : null
    inputs.set(r.name, {name: r.name, schema: r.object.spec.schema, state, source: r.object.spec.source, ...(copy && {expected: {id: copy.id, version: copy.version}})})
  }
  const workflows = new Map(ctx.all('DataWorkflow').map((r) => [r.name, r.object]))
  const {stateStorage, storages, flowStates} = placeStates(ctx)
  for (const p of [...ports.values(), ...inputs.values()]) {
    if (!stateStorage.has(p.state.ref)) stateStorage.set(p.state.ref, defaultStorage(ctx).name)
  }
  for (const name of stateStorage.values()) if (!storages.has(name)) storages.set(name, storageEngine(ctx, name))
  const flows = new Map<string, RuntimeFlow>()
  for (const flow of ctx.all('DataFlow')) {
    const states = new Map<string, RuntimeState>()
    for (const ref of flowStates.get(flow.name) ?? []) {
      const state = resolveState(ctx, ref)
      const parsed = parseStateRef(ref)
      if (state && parsed) states.set(parsed.schema === flow.object.spec.schema ? parsed.state : state.table, state)
    }
    flows.set(flow.name, {transitions: flow.object.spec.transitions, states})
  }
  const storageSpecs = new Map([...storages.keys()].map((name) => [name, ctx.object('DataStorage', name)?.spec as Record<string, unknown> | undefined]))
  return {product, namespace, ports, inputs, workflows, roles: ctx.all('DataRole').map((r) => r.object), stateStorage, storages, storageSpecs, flowStates, flows}
}

/**
 * Where each flow's states live (§7): `DataFlow.spec.storage` when set, else the product's
 * analytics storage, else its operational one, else the embedded default.
 */
function placeStates(ctx: ValidationContext): {stateStorage: Map<string, string>; storages: Map<string, string>; flowStates: Map<string, string[]>} {
  const stateStorage = new Map<string, string>()
  const storages = new Map<string, string>()
  const flowStates = new Map<string, string[]>()
  for (const flow of ctx.all('DataFlow')) {
    const spec = flow.object.spec as typeof flow.object.spec & {storage?: string}
    const storage = spec.storage ?? defaultStorage(ctx).name
    const states = new Set<string>([...(spec.inputs ?? []).map((i) => i.state), ...spec.transitions.flatMap((t) => [...t.from, t.to]), ...(spec.outputs ?? []).map((o) => o.state)])
    const refs = [...states].map((state) => (state.includes('@') ? state : `${spec.schema}@${spec.version}/${state}`))
    for (const ref of refs) stateStorage.set(ref, storage)
    flowStates.set(flow.name, refs)
    storages.set(storage, storageEngine(ctx, storage))
  }
  return {stateStorage, storages, flowStates}
}

function defaultStorage(ctx: ValidationContext): {name: string} {
  const all = ctx.all('DataStorage')
  const pick = all.find((s) => s.object.spec.class === 'analytics') ?? all.find((s) => s.object.spec.class === 'operational')
  return {name: pick?.name ?? EMBEDDED_STORAGE}
}

function storageEngine(ctx: ValidationContext, name: string): string {
  return name === EMBEDDED_STORAGE ? 'duckdb' : (ctx.object('DataStorage', name)?.spec.engine ?? 'duckdb')
}

function resolveState(ctx: ValidationContext, text: string): RuntimeState | undefined {
  const ref = parseStateRef(text)
  if (!ref) return undefined
  const resolved = ctx.resolveState(ref)
  if (resolved === 'unknown' || 'missing' in resolved) return undefined
  const columns = resolved.state.fields.map((f) => ({name: f.name, type: f.type, required: f.required === true || f.primaryKey === true, primaryKey: f.primaryKey === true}))
  const engine = stateTable(ref, resolved.state, ref.schema)
  return {ref: text, table: engine.table, columns, primaryKey: columns.filter((c) => c.primaryKey).map((c) => c.name), engine}
}

function contractOf(ctx: ValidationContext, name: string | undefined): ServedContract | null {
  if (!name) return null
  const r = ctx.get('DataContract', name)
  if (!r) return null
  let document: unknown = r.object.spec.document
  const ref = r.object.spec.documentRef?.path
  if (document === undefined && ref !== undefined) {
    const file = ctx.project.contractDocuments.get(resolveRelative(r.source.file, ref))
    document = file?.documents[0]?.object
  }
  const doc = (document ?? {}) as {id?: unknown; version?: unknown}
  return {name, id: doc.id === undefined ? null : String(doc.id), version: doc.version === undefined ? null : String(doc.version), document: document ?? null}
}
