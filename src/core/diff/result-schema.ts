import type {FromSchema} from 'json-schema-to-ts'

export const objectChangeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name', 'action', 'diff'],
  properties: {
    kind: {type: 'string'},
    name: {type: 'string'},
    clusterName: {type: 'string', description: 'the name in the cluster, when it differs from the project\'s local name (product-scoped resources are <product>.<name>)'},
    namespace: {type: 'string', description: 'absent for cluster-scoped objects (DataMesh, DataDomain, Namespace)'},
    action: {type: 'string', enum: ['create', 'update', 'delete'], description: 'delete: in the inventory, no longer in the project (what apply --prune removes)'},
    diff: {type: 'string', description: 'unified diff of the YAML, live → after apply; managed fields, resourceVersion, generation, uid, creationTimestamp and status left out'},
  },
} as const

/** The shape of `dappmesh diff --json` (exit 0 when `changes` is empty, 1 otherwise). */
export const diffResultSchema = {
  $id: 'https://dappmesh.io/schemas/diff.json',
  title: 'dappmesh diff',
  type: 'object',
  additionalProperties: false,
  required: ['product', 'namespace', 'context', 'server', 'changes', 'unchanged', 'warnings'],
  properties: {
    product: {type: 'string'},
    namespace: {type: 'string'},
    context: {type: 'string'},
    server: {type: 'string'},
    changes: {type: 'array', items: objectChangeSchema},
    unchanged: {type: 'integer', minimum: 0, description: 'objects apply would leave as they are'},
    warnings: {type: 'array', items: {type: 'string'}},
  },
} as const

export type ObjectChange = FromSchema<typeof objectChangeSchema>
export type ChangeAction = ObjectChange['action']
export type DiffResult = FromSchema<typeof diffResultSchema>
