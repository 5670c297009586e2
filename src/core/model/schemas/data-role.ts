import {SYSTEM_NAME, SYSTEM_NAMESPACE, dnsName, resourceSchema} from './common.js'

export const SYSTEM_NAME_MESSAGE = 'a subject may not be a Kubernetes system identity (a name starting with "system:"); grant a user, group or ServiceAccount of your own'
export const SYSTEM_NAMESPACE_MESSAGE = 'a subject may not live in a Kubernetes system namespace (kube-*); grant a ServiceAccount of your own namespace'

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
          // Kubernetes' own identities are never data consumers (see src/core/model/grants.ts).
          'x-kubernetes-validations': [
            {rule: "!self.name.startsWith('system:')", message: SYSTEM_NAME_MESSAGE},
            {rule: "!has(self.namespace) || !self.namespace.startsWith('kube-')", message: SYSTEM_NAMESPACE_MESSAGE},
          ],
          properties: {
            kind: {type: 'string', enum: ['User', 'Group', 'ServiceAccount']},
            name: {type: 'string', minLength: 1, maxLength: 253, not: {pattern: SYSTEM_NAME}},
            namespace: {...dnsName, not: {pattern: SYSTEM_NAMESPACE}},
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
