import {dnsName, resourceSchema} from './common.js'

export const dataRoleSchema = resourceSchema(
  'DataRole',
  {
    type: 'object',
    additionalProperties: false,
    required: ['subjects', 'grants'],
    properties: {
      subjects: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'name'],
          properties: {
            kind: {type: 'string', enum: ['User', 'Group', 'ServiceAccount']},
            name: {type: 'string', minLength: 1, maxLength: 253},
            namespace: dnsName,
          },
        },
      },
      grants: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['access'],
          oneOf: [{required: ['outputPort']}, {required: ['storage']}],
          'x-kubernetes-validations': [
            {rule: 'has(self.outputPort) != has(self.storage)', message: 'a grant names exactly one of outputPort or storage'},
          ],
          properties: {
            outputPort: dnsName,
            storage: dnsName,
            access: {type: 'string', enum: ['read', 'write', 'admin']},
          },
        },
      },
    },
  },
  'Who may use which output ports and storages of the product, and how.',
)
