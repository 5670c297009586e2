import {IDENTIFIER, dnsName, image, resourceSchema, stateRef} from './common.js'

export const outputPortSchema = resourceSchema(
  'OutputPort',
  {
    type: 'object',
    additionalProperties: false,
    required: ['entity', 'type', 'schema'],
    properties: {
      entity: {type: 'string', pattern: IDENTIFIER, maxLength: 128},
      type: {type: 'string', enum: ['api', 'table', 'topic', 'files']},
      schema: stateRef,
      contract: dnsName,
      storage: dnsName,
      service: {
        type: 'object',
        additionalProperties: false,
        properties: {image, port: {type: 'integer', minimum: 1, maximum: 65535}},
      },
    },
  },
  'How consumers read the product\'s data: an API, a table, a topic or files, bound to a contract.',
)
