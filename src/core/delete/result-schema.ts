import type {FromSchema} from 'json-schema-to-ts'

export const doomedObjectSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name', 'namespace'],
  properties: {
    kind: {type: 'string'},
    name: {type: 'string'},
    clusterName: {type: 'string', description: 'the name in the cluster, when it differs from the project\'s local name (product-scoped resources are <product>.<name>)'},
    namespace: {type: 'string'},
  },
} as const

/** The shape of `dappmesh delete --json`. */
export const deleteResultSchema = {
  $id: 'https://dappmesh.io/schemas/delete.json',
  title: 'dappmesh delete',
  type: 'object',
  additionalProperties: false,
  required: ['product', 'namespace', 'context', 'server', 'dryRun', 'deleted', 'warnings'],
  properties: {
    product: {type: 'string'},
    namespace: {type: 'string'},
    context: {type: 'string'},
    server: {type: 'string'},
    dryRun: {type: 'boolean', description: 'true: the server checked each deletion and nothing was deleted'},
    retained: {type: 'array', items: doomedObjectSchema, description: 'the product\'s data kept (volume claims, storage credentials): delete --purge-data removes it'},
    purged: {type: 'array', items: doomedObjectSchema, description: 'with --purge-data: the product\'s data deleted'},
    deleted: {type: 'array', items: doomedObjectSchema, description: 'the DataProduct first, then its resources'},
    gone: {type: 'boolean', description: 'with --wait: every object (and what it owns) was confirmed gone'},
    warnings: {type: 'array', items: {type: 'string'}},
  },
} as const

export type DoomedObject = FromSchema<typeof doomedObjectSchema>
export type DeleteResult = FromSchema<typeof deleteResultSchema>
