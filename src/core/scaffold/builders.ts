/**
 * What `init` and `add entity` write: each file of the tree, rendered from templates/ with the
 * answers. Nothing here touches the target directory; write-tree.ts does, atomically.
 */
import {type InitAnswers, STORAGE_CLASSES, type StorageClass} from './answers.js'
import {entityModel, toCsv} from './entity-model.js'
import {entityNames, productNames} from './names.js'
import {odcsProperties} from './odcs.js'
import {type TemplateValue, type Variables, readTemplate, renderYaml} from './template.js'

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

/** Which kind of output port fits the storage it serves from. */
const OUTPUT_TYPE: Record<StorageClass | 'none', 'api' | 'table' | 'files'> = {operational: 'api', analytics: 'table', object: 'files', none: 'api'}

/**
 * The storage an entity's output port uses: where its flow's states live (DESIGN §7: the
 * analytics storage, else the operational one), else the object storage.
 */
const PORT_STORAGE_ORDER: StorageClass[] = ['analytics', 'operational', 'object']

export function primaryStorage(storages: StorageRef[]): StorageRef | undefined {
  for (const c of PORT_STORAGE_ORDER) {
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

/**
 * model/<entity>/* and services/<entity>/* for one entity, its sample data data/<input>.csv and
 * one data test tests/<entity>/ (the sample rows in, the clean state they make expected).
 */
export async function planEntity(entity: string, ctx: EntityContext): Promise<PlannedFile[]> {
  const names = entityNames(entity)
  const model = entityModel(entity)
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
    description: `${model.noun[0].toUpperCase()}${model.noun.slice(1)} (${entity}).`,
    rawFields: model.raw as unknown as TemplateValue,
    cleanFields: model.clean as unknown as TemplateValue,
    sql: model.sql,
  }
  const modelDir = `model/${entity}`
  const services = `services/${entity}`
  // The contract is bound to the clean state, so its properties are that state's fields.
  const contractVars = {...vars, properties: odcsProperties(model.clean) as unknown as TemplateValue}
  return [
    await yamlFile('entity/model/schema.yaml', `${modelDir}/schema.yaml`, vars),
    await yamlFile('entity/model/flow.yaml', `${modelDir}/flow.yaml`, vars),
    await yamlFile('entity/model/workflow.yaml', `${modelDir}/workflow.yaml`, vars),
    await yamlFile('entity/services/contracts.yaml', `${services}/contracts.yaml`, vars),
    await yamlFile('entity/services/contract.odcs.yaml', `${services}/${names.contractDocument}`, contractVars),
    await yamlFile('entity/services/input.yaml', `${services}/input.yaml`, vars),
    await yamlFile('entity/services/output.yaml', `${services}/output.yaml`, vars),
    {path: `data/${names.input}.csv`, content: toCsv(model.raw, model.rows)},
    {path: `tests/${entity}/inputs/${names.input}.csv`, content: toCsv(model.raw, model.rows)},
    // The storage name of the state (<schema>__<state>): it stays unambiguous when entities are added.
    {path: `tests/${entity}/expect/${names.schema}__clean.csv`, content: toCsv(model.clean, model.expected)},
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
