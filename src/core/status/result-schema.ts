import type {FromSchema} from 'json-schema-to-ts'

const readiness = {type: ['boolean', 'null'], description: 'true Ready, false not ready, null unknown (no Ready condition, or one for an older generation)'} as const

const conditionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'status'],
  properties: {
    type: {type: 'string'},
    status: {type: 'string'},
    reason: {type: 'string'},
    message: {type: 'string'},
    lastTransitionTime: {type: 'string'},
  },
} as const

const componentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name', 'ready'],
  properties: {kind: {type: 'string'}, name: {type: 'string'}, ready: readiness, message: {type: 'string'}},
} as const

const eventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['object', 'reason', 'message', 'count'],
  properties: {object: {type: 'string', description: 'Kind/name'}, reason: {type: 'string'}, message: {type: 'string'}, count: {type: 'integer'}, lastSeen: {type: 'string'}},
} as const

const workflowRunSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['workflow', 'result'],
  properties: {
    workflow: {type: 'string'},
    run: {type: 'string', description: 'the run id (GET /v1/runs/<id> on the runtime)'},
    result: {type: 'string', enum: ['succeeded', 'failed', 'running']},
    startedAt: {type: 'string'},
    finishedAt: {type: 'string'},
    rows: {type: 'integer', description: 'rows written by the run'},
    message: {type: 'string'},
  },
} as const

const contractResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['port', 'result'],
  properties: {
    port: {type: 'string'},
    contract: {type: 'string', description: 'the ODCS document id'},
    version: {type: 'string'},
    result: {type: 'string', enum: ['passed', 'failed']},
    checkedAt: {type: 'string'},
    failed: {type: 'array', items: {type: 'string'}, description: 'the rules that failed'},
  },
} as const

/** The product's runtime (dappmesh serve in the cluster): its readiness, and what it last did. */
const runtimeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'ready', 'workflows', 'contracts'],
  properties: {
    name: {type: 'string', description: 'the runtime StatefulSet'},
    ready: readiness,
    message: {type: 'string'},
    workflows: {type: 'array', items: workflowRunSchema, description: 'the last run of each workflow, as the runtime recorded it in status.runtime'},
    contracts: {type: 'array', items: contractResultSchema, description: 'the last evaluation of each output port\'s contract'},
  },
} as const

const sharedProperties = {
  name: {type: 'string'},
  found: {type: 'boolean', description: 'false: the product names it but the cluster has no such object'},
  ready: readiness,
  reason: {type: 'string'},
  conditions: {type: 'array', items: conditionSchema},
} as const

export const productStatusSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['mesh', 'domain', 'product'],
  properties: {
    mesh: {type: 'object', additionalProperties: false, required: ['name', 'found', 'ready', 'conditions'], properties: sharedProperties},
    domain: {type: 'object', additionalProperties: false, required: ['name', 'found', 'ready', 'conditions', 'namespace'], properties: {...sharedProperties, namespace: {type: 'string'}}},
    product: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'namespace', 'ready', 'conditions', 'componentsFrom', 'components', 'events'],
      properties: {
        name: {type: 'string'},
        namespace: {type: 'string'},
        version: {type: 'string'},
        ready: readiness,
        reason: {type: 'string'},
        generation: {type: 'integer'},
        observedGeneration: {type: 'integer'},
        conditions: {type: 'array', items: conditionSchema},
        componentsFrom: {type: 'string', enum: ['status', 'resources'], description: 'status: reported by the operator; resources: the product\'s own resources and their Ready conditions'},
        components: {type: 'array', items: componentSchema},
        runtime: runtimeSchema,
        events: {type: 'array', items: eventSchema, description: 'recent Warning events of the product and its components, newest first, at most 10'},
      },
    },
  },
} as const

/** `dappmesh status PRODUCT -o json` is one productStatus; `--all` is this. */
export const statusAllSchema = {
  $id: 'https://dappmesh.io/schemas/status-all.json',
  title: 'dappmesh status --all',
  type: 'object',
  additionalProperties: false,
  required: ['context', 'server', 'products'],
  properties: {context: {type: 'string'}, server: {type: 'string'}, products: {type: 'array', items: productStatusSchema}},
} as const

export const statusSchema = {$id: 'https://dappmesh.io/schemas/status.json', title: 'dappmesh status PRODUCT', ...productStatusSchema} as const

export type ConditionView = FromSchema<typeof conditionSchema>
export type ComponentView = FromSchema<typeof componentSchema>
export type EventView = FromSchema<typeof eventSchema>
export type RuntimeView = FromSchema<typeof runtimeSchema>
export type WorkflowRunView = FromSchema<typeof workflowRunSchema>
export type ContractResultView = FromSchema<typeof contractResultSchema>
export type ProductStatus = FromSchema<typeof productStatusSchema>
export type StatusAll = FromSchema<typeof statusAllSchema>
export type Readiness = ProductStatus['product']['ready']
