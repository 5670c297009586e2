import {IDENTIFIER, dnsName, image, resourceSchema, stateRef} from './common.js'

export const inputPortSchema = resourceSchema(
  'InputPort',
  {
    type: 'object',
    additionalProperties: false,
    required: ['entity', 'schema', 'source'],
    properties: {
      entity: {type: 'string', pattern: IDENTIFIER, maxLength: 128},
      schema: stateRef,
      source: {
        type: 'object',
        additionalProperties: false,
        required: ['type'],
        properties: {
          type: {type: 'string', enum: ['product', 'kafka', 'http', 'postgres', 's3']},
          product: dnsName,
          port: dnsName,
          contract: dnsName,
          uri: {type: 'string', minLength: 1, maxLength: 2048},
        },
        'x-kubernetes-validations': [
          {rule: "self.type != 'product' || (has(self.product) && has(self.port))", message: 'a product source names its product and port'},
          {rule: "self.type == 'product' || has(self.uri)", message: 'a non-product source needs a uri'},
        ],
        if: {properties: {type: {const: 'product'}}},
        then: {required: ['product', 'port']},
        else: {required: ['uri']},
      },
      image,
    },
  },
  'Where data enters the product: another product\'s output port, a topic, an endpoint, a database or a bucket.',
)
