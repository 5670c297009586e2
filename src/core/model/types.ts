/**
 * The TypeScript shape of each kind, derived from its JSON Schema so that the two cannot drift.
 */
import type {FromSchema} from 'json-schema-to-ts'

import type {dataContractSchema} from './schemas/data-contract.js'
import type {dataDomainSchema} from './schemas/data-domain.js'
import type {dataFlowSchema} from './schemas/data-flow.js'
import type {dataMeshSchema} from './schemas/data-mesh.js'
import type {dataProductSchema} from './schemas/data-product.js'
import type {dataRoleSchema} from './schemas/data-role.js'
import type {dataSchemaSchema} from './schemas/data-schema.js'
import type {dataStorageSchema} from './schemas/data-storage.js'
import type {dataWorkflowSchema} from './schemas/data-workflow.js'
import type {inputPortSchema} from './schemas/input-port.js'
import type {outputPortSchema} from './schemas/output-port.js'

type Derive<S> = FromSchema<S & {}, {keepDefaultedPropertiesOptional: true}>

export type DataMesh = Derive<typeof dataMeshSchema>
export type DataDomain = Derive<typeof dataDomainSchema>
export type DataProduct = Derive<typeof dataProductSchema>
export type DataRole = Derive<typeof dataRoleSchema>
export type DataSchema = Derive<typeof dataSchemaSchema>
export type DataFlow = Derive<typeof dataFlowSchema>
export type DataWorkflow = Derive<typeof dataWorkflowSchema>
export type DataContract = Derive<typeof dataContractSchema>
export type InputPort = Derive<typeof inputPortSchema>
export type OutputPort = Derive<typeof outputPortSchema>
export type DataStorage = Derive<typeof dataStorageSchema>

export interface KindMap {
  DataMesh: DataMesh
  DataDomain: DataDomain
  DataProduct: DataProduct
  DataRole: DataRole
  DataSchema: DataSchema
  DataFlow: DataFlow
  DataWorkflow: DataWorkflow
  DataContract: DataContract
  InputPort: InputPort
  OutputPort: OutputPort
  DataStorage: DataStorage
}
export type KindName = keyof KindMap
export type AnyResource = KindMap[KindName]
