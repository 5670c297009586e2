import {dnsName, resourceSchema, semver, text} from './common.js'

export const dataProductSchema = resourceSchema(
  'DataProduct',
  {
    type: 'object',
    additionalProperties: false,
    required: ['domain', 'owner', 'version'],
    properties: {
      domain: dnsName,
      owner: {type: 'string', minLength: 1, maxLength: 253},
      version: semver,
      description: text,
      tags: {type: 'array', items: {type: 'string', minLength: 1, maxLength: 63}},
      registry: {type: 'string', minLength: 1, maxLength: 253, description: 'Where `dappmesh build --push` sends images.'},
    },
  },
  'A data product: the unit a domain team builds, owns and serves.',
)
