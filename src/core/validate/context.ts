import type {DataMesh, DataSchema, KindMap, KindName} from '../model/types.js'
import type {Project} from '../project/load.js'
import type {Resource} from '../project/resource.js'

export type Governance = Required<NonNullable<NonNullable<DataMesh['spec']>['governance']>>

export const DEFAULT_GOVERNANCE: Governance = {
  contractSpecification: 'odcs',
  compatibility: 'BACKWARD',
  requireContracts: true,
  requireClassificationForPii: true,
}

export type SchemaVersion = DataSchema['spec']['versions'][number]
export type SchemaState = SchemaVersion['states'][number]
export type SchemaField = SchemaState['fields'][number]

export interface StateRef {
  schema: string
  version: string
  state: string
}

export function parseStateRef(ref: string): StateRef | undefined {
  const m = /^([^@/]+)@([^/]+)\/(.+)$/.exec(ref)
  return m ? {schema: m[1], version: m[2], state: m[3]} : undefined
}

/**
 * What cross-resource rules share: the resources by kind and name, and which of them passed the
 * schema rule (only those are read past their envelope, so a broken one cannot crash a rule).
 */
export class ValidationContext {
  private readonly byKind = new Map<string, Map<string, Resource>>()
  private readonly validByKind = new Map<string, Resource[]>()
  private entities: {declared: Set<string>; anyInvalidSchema: boolean} | undefined

  constructor(
    readonly project: Project,
    readonly valid: Set<Resource>,
  ) {
    for (const r of project.resources) {
      let names = this.byKind.get(r.kind)
      if (!names) this.byKind.set(r.kind, (names = new Map()))
      if (!names.has(r.name)) names.set(r.name, r)
      if (!valid.has(r)) continue
      const list = this.validByKind.get(r.kind)
      if (list) list.push(r)
      else this.validByKind.set(r.kind, [r])
    }
  }

  /** Schema-valid resources of a kind, in file order (a fresh array: callers may keep it). */
  all<K extends KindName>(kind: K): Array<Resource<K>> {
    return [...(this.validByKind.get(kind) ?? [])] as Array<Resource<K>>
  }

  /**
   * Whether some DataSchema declares `entity`, or one is invalid (and might: nothing can be
   * said then). Indexed once, so a project of thousands of ports stays linear.
   */
  entityMayExist(entity: string): boolean {
    if (!this.entities) {
      const declared = new Set<string>()
      let anyInvalidSchema = false
      for (const s of this.project.resources) {
        if (s.kind !== 'DataSchema') continue
        if (this.valid.has(s)) declared.add((s.object as DataSchema).spec?.entity)
        else anyInvalidSchema = true
      }
      this.entities = {declared, anyInvalidSchema}
    }
    return this.entities.anyInvalidSchema || this.entities.declared.has(entity)
  }

  /** Names of every resource of a kind, valid or not (for "use one of: …" suggestions). */
  names(kind: KindName): string[] {
    return this.project.resources.filter((x) => x.kind === kind).map((x) => x.name)
  }

  /** Whether a resource of that kind and name exists at all (valid or not). */
  has(kind: KindName, name: string): boolean {
    return this.byKind.get(kind)?.has(name) ?? false
  }

  /** The schema-valid resource of that kind and name, if any. */
  get<K extends KindName>(kind: K, name: string): Resource<K> | undefined {
    const r = this.byKind.get(kind)?.get(name)
    return r && this.valid.has(r) ? (r as Resource<K>) : undefined
  }

  object<K extends KindName>(kind: K, name: string): KindMap[K] | undefined {
    return this.get(kind, name)?.object
  }

  get governance(): Governance {
    const mesh = this.all('DataMesh')[0]
    return {...DEFAULT_GOVERNANCE, ...(mesh?.object.spec?.governance ?? {})} as Governance
  }

  /**
   * Resolves a state ref. `unknown` means the schema exists but is itself invalid, so nothing can
   * be said (its own findings explain why); `missing` says which part does not resolve.
   */
  resolveState(ref: StateRef): {state: SchemaState; version: SchemaVersion} | {missing: string} | 'unknown' {
    if (!this.has('DataSchema', ref.schema)) return {missing: `no DataSchema named "${ref.schema}"`}
    const schema = this.object('DataSchema', ref.schema)
    if (!schema) return 'unknown'
    const version = schema.spec.versions.find((v) => v.version === ref.version)
    if (!version) {
      return {missing: `DataSchema "${ref.schema}" has no version ${ref.version} (it has ${schema.spec.versions.map((v) => v.version).join(', ')})`}
    }
    const state = version.states.find((s) => s.name === ref.state)
    if (!state) {
      return {missing: `version ${ref.version} of DataSchema "${ref.schema}" has no state "${ref.state}" (it has ${version.states.map((s) => s.name).join(', ')})`}
    }
    return {state, version}
  }
}
