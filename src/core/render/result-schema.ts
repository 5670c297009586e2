const manifestSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: {type: 'string'},
    kind: {type: 'string'},
    metadata: {type: 'object', required: ['name'], properties: {name: {type: 'string'}, namespace: {type: 'string'}}},
  },
} as const

/** A kubectl List, what `-o json` and `--json` both print. */
const listSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'items'],
  properties: {
    apiVersion: {const: 'v1'},
    kind: {const: 'List'},
    items: {type: 'array', items: manifestSchema},
  },
} as const

/** The shape of `dappmesh render --json`: the List, or with --output-dir the files written. */
export const renderResultSchema = {
  $id: 'https://dappmesh.io/schemas/render.json',
  title: 'dappmesh render',
  oneOf: [
    listSchema,
    {
      type: 'object',
      additionalProperties: false,
      required: ['directory', 'files'],
      properties: {directory: {type: 'string'}, files: {type: 'array', items: {type: 'string'}}},
    },
  ],
} as const

/** The shape of `dappmesh crds --json`: a List of CustomResourceDefinitions. */
export const crdsResultSchema = {
  $id: 'https://dappmesh.io/schemas/crds.json',
  title: 'dappmesh crds',
  ...listSchema,
  properties: {...listSchema.properties, items: {type: 'array', items: {...manifestSchema, properties: {...manifestSchema.properties, kind: {enum: ['CustomResourceDefinition', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']}}}, description: 'the CRDs, then the admission policy (and its binding) that checks DataRole authors'}},
} as const
