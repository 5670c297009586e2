const appliedObjectSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name', 'action'],
  properties: {
    kind: {type: 'string'},
    name: {type: 'string'},
    clusterName: {type: 'string', description: 'the name in the cluster, when it differs from the project\'s local name (product-scoped resources are <product>.<name>)'},
    namespace: {type: 'string'},
    action: {enum: ['created', 'configured', 'unchanged', 'pruned']},
  },
} as const

const oneProductSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['product', 'namespace', 'dryRun', 'crds', 'objects', 'warnings'],
  properties: {
    product: {type: 'string', description: 'empty for the platform project'},
    platform: {type: 'boolean', description: 'true for the platform project (dappmesh init mesh): the mesh, its domains and their namespaces (listed in namespace, comma-separated)'},
    namespace: {type: 'string'},
    context: {type: 'string'},
    server: {type: 'string'},
    dryRun: {enum: ['none', 'client', 'server']},
    crds: {enum: ['current', 'installed', 'upgraded', 'skipped'], description: 'skipped with --dry-run=client'},
    objects: {type: 'array', items: appliedObjectSchema},
    warnings: {type: 'array', items: {type: 'string'}},
    ready: {type: 'boolean', description: 'with --wait: Ready was True for the applied generation'},
  },
} as const

/** The shape of `dappmesh apply --json`: one product's result, or `{products}` for several directories. */
export const applyResultSchema = {
  $id: 'https://dappmesh.io/schemas/apply.json',
  title: 'dappmesh apply',
  oneOf: [
    oneProductSchema,
    {type: 'object', additionalProperties: false, required: ['products'], properties: {products: {type: 'array', items: oneProductSchema}}},
  ],
} as const
