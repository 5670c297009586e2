import {API_VERSION} from './schemas/common.js'
import {dataContractSchema} from './schemas/data-contract.js'
import {dataDomainSchema} from './schemas/data-domain.js'
import {dataFlowSchema} from './schemas/data-flow.js'
import {dataMeshSchema} from './schemas/data-mesh.js'
import {dataProductSchema} from './schemas/data-product.js'
import {dataRoleSchema} from './schemas/data-role.js'
import {dataSchemaSchema} from './schemas/data-schema.js'
import {dataStorageSchema} from './schemas/data-storage.js'
import {dataWorkflowSchema} from './schemas/data-workflow.js'
import {inputPortSchema} from './schemas/input-port.js'
import {outputPortSchema} from './schemas/output-port.js'

export {API_VERSION}
export const GROUP = 'dappmesh.io'
export const VERSION = 'v1alpha1'

export interface PrinterColumn {
  name: string
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date'
  jsonPath: string
  description?: string
  priority?: number
}

/** A kind's JSON Schema (resourceSchema's envelope), read by keyword where it is turned into a CRD. */
export interface KindSchema {
  [keyword: string]: unknown
  description?: string
  properties: {spec: unknown; [property: string]: unknown}
}

export interface KindInfo {
  kind: string
  plural: string
  singular: string
  shortNames: string[]
  scope: 'Cluster' | 'Namespaced'
  schema: KindSchema
  columns: PrinterColumn[]
}

const ready: PrinterColumn = {name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
const age: PrinterColumn = {name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp'}

function info(kind: string, plural: string, shortNames: string[], scope: KindInfo['scope'], schema: object, columns: PrinterColumn[] = []): KindInfo {
  return {kind, plural, singular: kind.toLowerCase(), shortNames, scope, schema: schema as KindSchema, columns: [...columns, ready, age]}
}

/** Every kind dappmesh defines, in the order they are applied (shared first, then the product). */
export const KINDS: readonly KindInfo[] = [
  info('DataMesh', 'datameshes', ['dmesh'], 'Cluster', dataMeshSchema, [
    {name: 'Compatibility', type: 'string', jsonPath: '.spec.governance.compatibility'},
  ]),
  info('DataDomain', 'datadomains', ['ddom'], 'Cluster', dataDomainSchema, [
    {name: 'Mesh', type: 'string', jsonPath: '.spec.mesh'},
    {name: 'Owner', type: 'string', jsonPath: '.spec.owner'},
  ]),
  info('DataProduct', 'dataproducts', ['dp', 'dprod'], 'Namespaced', dataProductSchema, [
    {name: 'Domain', type: 'string', jsonPath: '.spec.domain'},
    {name: 'Version', type: 'string', jsonPath: '.spec.version'},
  ]),
  info('DataStorage', 'datastorages', ['dstore'], 'Namespaced', dataStorageSchema, [
    {name: 'Class', type: 'string', jsonPath: '.spec.class'},
    {name: 'Engine', type: 'string', jsonPath: '.spec.engine'},
    {name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas'},
  ]),
  info('DataSchema', 'dataschemas', ['dschema'], 'Namespaced', dataSchemaSchema, [
    {name: 'Entity', type: 'string', jsonPath: '.spec.entity'},
  ]),
  info('DataContract', 'datacontracts', ['dcon'], 'Namespaced', dataContractSchema, [
    {name: 'Schema', type: 'string', jsonPath: '.spec.schema'},
  ]),
  info('DataFlow', 'dataflows', ['dflow'], 'Namespaced', dataFlowSchema, [
    {name: 'Schema', type: 'string', jsonPath: '.spec.schema'},
    {name: 'Version', type: 'string', jsonPath: '.spec.version'},
  ]),
  info('DataWorkflow', 'dataworkflows', ['dwf'], 'Namespaced', dataWorkflowSchema, [
    {name: 'Flow', type: 'string', jsonPath: '.spec.flow'},
    {name: 'Schedule', type: 'string', jsonPath: '.spec.schedule'},
  ]),
  info('InputPort', 'inputports', ['iport'], 'Namespaced', inputPortSchema, [
    {name: 'Entity', type: 'string', jsonPath: '.spec.entity'},
    {name: 'Source', type: 'string', jsonPath: '.spec.source.type'},
  ]),
  info('OutputPort', 'outputports', ['oport'], 'Namespaced', outputPortSchema, [
    {name: 'Entity', type: 'string', jsonPath: '.spec.entity'},
    {name: 'Type', type: 'string', jsonPath: '.spec.type'},
    {name: 'Contract', type: 'string', jsonPath: '.spec.contract'},
  ]),
  info('DataRole', 'dataroles', ['drole'], 'Namespaced', dataRoleSchema),
]

const byKind = new Map(KINDS.map((k) => [k.kind, k]))

export function kindInfo(kind: string): KindInfo | undefined {
  return byKind.get(kind)
}

export const KIND_NAMES = KINDS.map((k) => k.kind)
