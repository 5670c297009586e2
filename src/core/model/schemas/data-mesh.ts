import {dnsName, resourceSchema, text} from './common.js'

export const dataMeshSchema = resourceSchema(
  'DataMesh',
  {
    type: 'object',
    additionalProperties: false,
    properties: {
      description: text,
      governance: {
        type: 'object',
        additionalProperties: false,
        description: 'Policies every domain and product of the mesh must follow.',
        properties: {
          contractSpecification: {type: 'string', enum: ['odcs'], default: 'odcs'},
          compatibility: {
            type: 'string',
            enum: ['BACKWARD', 'FORWARD', 'FULL', 'NONE'],
            default: 'BACKWARD',
            description: 'How a new schema version must relate to the previous one (schema-registry semantics).',
          },
          requireContracts: {type: 'boolean', default: true, description: 'Every output port must name a DataContract.'},
          requireClassificationForPii: {type: 'boolean', default: true, description: 'Every pii field must have a classification.'},
        },
      },
      clusters: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {name: dnsName, context: {type: 'string', minLength: 1}},
        },
      },
    },
  },
  'The mesh: shared governance for every domain and data product (cluster-scoped).',
)
