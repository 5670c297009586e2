import {resourceSchema, stateRef} from './common.js'

export const dataContractSchema = resourceSchema(
  'DataContract',
  {
    type: 'object',
    additionalProperties: false,
    required: ['specification', 'specificationVersion', 'schema'],
    oneOf: [{required: ['document']}, {required: ['documentRef']}],
    'x-kubernetes-validations': [
      {rule: 'has(self.document) != has(self.documentRef)', message: 'a contract has exactly one of document or documentRef'},
    ],
    properties: {
      specification: {type: 'string', enum: ['odcs']},
      specificationVersion: {type: 'string', pattern: '^v?[0-9]+\\.[0-9]+\\.[0-9]+$', maxLength: 32},
      schema: stateRef,
      document: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'The contract document, inline.'},
      documentRef: {
        type: 'object',
        additionalProperties: false,
        required: ['path'],
        properties: {path: {type: 'string', minLength: 1, maxLength: 1024, description: 'Path of the contract document, relative to this file.'}},
      },
    },
  },
  'A data contract (ODCS) bound to a schema state.',
)
