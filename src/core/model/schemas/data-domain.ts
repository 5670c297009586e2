import {RESERVED_NAMESPACE, dnsName, quantity, resourceSchema, text} from './common.js'

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
      namespace: {...dnsName, not: {pattern: RESERVED_NAMESPACE}, description: 'Namespace of the domain\'s products (default: the domain\'s name); not kube-*, default or dappmesh-system.'},
      quota: {
        type: 'object',
        additionalProperties: false,
        properties: {cpu: quantity, memory: quantity, storage: quantity},
      },
    },
  },
  'A business domain that owns data products; maps to a namespace (cluster-scoped).',
)
