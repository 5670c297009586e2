import {dnsName, quantity, resourceSchema, text} from './common.js'

export const dataDomainSchema = resourceSchema(
  'DataDomain',
  {
    type: 'object',
    additionalProperties: false,
    required: ['mesh', 'owner'],
    properties: {
      mesh: dnsName,
      owner: {type: 'string', minLength: 1, maxLength: 253},
      description: text,
      namespace: {...dnsName, description: 'Namespace of the domain\'s products (default: the domain\'s name).'},
      quota: {
        type: 'object',
        additionalProperties: false,
        properties: {cpu: quantity, memory: quantity, storage: quantity},
      },
    },
  },
  'A business domain that owns data products; maps to a namespace (cluster-scoped).',
)
