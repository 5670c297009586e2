/**
 * What `init` and `add entity` write: each file of the tree, rendered from templates/ with the
 * answers. Nothing here touches the target directory; write-tree.ts does, atomically.
 */
import {parse} from 'yaml'

import type {DataSchema} from '../model/types.js'
import {type InitAnswers, STORAGE_CLASSES, type StorageClass} from './answers.js'
import {entityNames, productNames} from './names.js'
import {odcsProperties, stateFields} from './odcs.js'
import {type TemplateValue, type Variables, readTemplate, renderText, renderYaml} from './template.js'

export interface PlannedFile {
  /** Relative to the project root, with forward slashes. */
  path: string
  content: string
  /** File mode; 0o644 unless said. */
  mode?: number
}

/** A storage of the product, as an entity's output port sees it. */
export interface StorageRef {
  name: string
  class: StorageClass
}

/** What an entity's files need to know about the product around it. */
export interface EntityContext {
  product: string
  domain: string
  /** Where the entity's output port keeps its data; none when the product has no storage. */
  storage?: StorageRef
}

/** The version and state the scaffolded contract is bound to (as in the schema template). */
const CONTRACT_VERSION = '0.1.0'
const CONTRACT_STATE = 'clean'

/** Which kind of output port fits the storage it serves from. */
const OUTPUT_TYPE: Record<StorageClass | 'none', 'api' | 'table' | 'files'> = {operational: 'api', analytics: 'table', object: 'files', none: 'api'}
const SERVICE_PORT = 8080

/** The storage an entity's output port uses: operational first, then analytics, then object. */
export function primaryStorage(storages: StorageRef[]): StorageRef | undefined {
  for (const c of STORAGE_CLASSES) {
    const found = storages.find((s) => s.class === c)
    if (found) return found
  }
  return undefined
}

export function outputPortName(entity: string, storage: StorageRef | undefined): string {
  return entityNames(entity).output(OUTPUT_TYPE[storage?.class ?? 'none'])
}

async function yamlFile(template: string, path: string, vars: Variables): Promise<PlannedFile> {
  return {path, content: renderYaml(await readTemplate(template), vars, template)}
}

async function textFile(template: string, path: string, vars: Variables, mode?: number): Promise<PlannedFile> {
  return {path, content: renderText(await readTemplate(template), vars, template), mode}
}

/** model/<entity>/* and services/<entity>/* for one entity. */
export async function planEntity(entity: string, ctx: EntityContext): Promise<PlannedFile[]> {
  const names = entityNames(entity)
  const outputType = OUTPUT_TYPE[ctx.storage?.class ?? 'none']
  const vars: Variables = {
    entity,
    product: ctx.product,
    domain: ctx.domain,
    schema: names.schema,
    flow: names.flow,
    workflow: names.workflow,
    input: names.input,
    output: names.output(outputType),
    outputType,
    contract: names.contract,
    contractDocument: names.contractDocument,
    storage: ctx.storage?.name,
    // A port that serves an API runs the entity's image (its Containerfile); the others are data only.
    service: outputType === 'api' ? {port: SERVICE_PORT} : undefined,
  }
  const model = `model/${entity}`
  const services = `services/${entity}`
  const schema = await yamlFile('entity/model/schema.yaml', `${model}/schema.yaml`, vars)
  const fields = stateFields(parse(schema.content) as DataSchema, CONTRACT_VERSION, CONTRACT_STATE)
  if (!fields) throw new Error(`templates/entity/model/schema.yaml has no state ${CONTRACT_VERSION}/${CONTRACT_STATE} for the contract`)
  const contractVars = {...vars, properties: odcsProperties(fields) as unknown as TemplateValue}
  return [
    schema,
    await yamlFile('entity/model/flow.yaml', `${model}/flow.yaml`, vars),
    await yamlFile('entity/model/workflow.yaml', `${model}/workflow.yaml`, vars),
    await yamlFile('entity/services/contracts.yaml', `${services}/contracts.yaml`, vars),
    await yamlFile('entity/services/contract.odcs.yaml', `${services}/${names.contractDocument}`, contractVars),
    await yamlFile('entity/services/input.yaml', `${services}/input.yaml`, vars),
    await yamlFile('entity/services/output.yaml', `${services}/output.yaml`, vars),
    await textFile('entity/services/Containerfile', `${services}/Containerfile`, vars),
    await textFile('entity/services/server.sh', `${services}/server.sh`, vars, 0o755),
  ]
}

/** The whole tree of DESIGN §1 for the answers of `init`. */
export async function planProduct(answers: InitAnswers): Promise<PlannedFile[]> {
  const storages: StorageRef[] = STORAGE_CLASSES.filter((c) => answers.storage[c] !== undefined).map((c) => ({name: c, class: c}))
  const primary = primaryStorage(storages)
  const roles = productNames(answers.name)
  const vars: Variables = {
    product: answers.name,
    domain: answers.domain,
    mesh: answers.mesh,
    owner: answers.owner,
    description: answers.description === undefined || answers.description === '' ? undefined : answers.description,
    contractSpecification: answers.contractSpecification,
    readers: roles.readers,
    writers: roles.writers,
    readGrants: answers.entities.map((e) => ({outputPort: outputPortName(e, primary), access: 'read'})),
    writeGrants: storages.map((s) => ({storage: s.name, access: 'write'})),
  }
  const roleDocs = [renderYaml(await readTemplate('product/mesh/role-readers.yaml'), vars, 'product/mesh/role-readers.yaml')]
  // A role grants something or it is not a role: no storage, no writers.
  if (storages.length > 0) roleDocs.push(renderYaml(await readTemplate('product/mesh/role-writers.yaml'), vars, 'product/mesh/role-writers.yaml'))

  const files: PlannedFile[] = [
    await yamlFile('product/dappmesh.yaml', 'dappmesh.yaml', vars),
    await yamlFile('product/mesh/cluster.yaml', 'mesh/cluster.yaml', vars),
    await yamlFile('product/mesh/domain.yaml', 'mesh/domain.yaml', vars),
    {path: 'mesh/roles.yaml', content: roleDocs.join('---\n')},
  ]
  for (const s of storages) files.push(await yamlFile(`storage/${s.class}.yaml`, `storage/${s.class}.yaml`, {...vars, engine: answers.storage[s.class]}))
  for (const entity of answers.entities) files.push(...(await planEntity(entity, {product: answers.name, domain: answers.domain, storage: primary})))
  return files
}
