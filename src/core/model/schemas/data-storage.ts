import {cron, duration, image, quantity, resourceSchema} from './common.js'

export const ENGINES = {
  operational: ['postgresql', 'surrealdb', 'tidb'],
  analytics: ['duckdb', 'doris', 'clickhouse'],
  object: ['minio', 's3'],
} as const

const allEngines = [...ENGINES.operational, ...ENGINES.analytics, ...ENGINES.object] as const
const engineRule = (Object.keys(ENGINES) as Array<keyof typeof ENGINES>)
  .map((c) => `(self.class == '${c}' && self.engine in [${ENGINES[c].map((e) => `'${e}'`).join(', ')}])`)
  .join(' || ')

export const dataStorageSchema = resourceSchema(
  'DataStorage',
  {
    type: 'object',
    additionalProperties: false,
    required: ['class', 'engine'],
    'x-kubernetes-validations': [
      {rule: engineRule, message: 'engine is not one of its class\'s engines'},
      // The cluster agrees with validate's storage rule (model/engine-limits.ts): every engine runs as one node, none is backed up yet.
      {rule: '!has(self.replicas) || self.replicas <= 1', message: 'dappmesh runs every engine as a single node: more than 1 replica would be independent databases behind one Service'},
      {rule: '!has(self.backup)', message: 'backup is not implemented by dappmesh yet: remove spec.backup and back the volume up with your platform\'s tools'},
    ],
    allOf: (Object.keys(ENGINES) as Array<keyof typeof ENGINES>).map((c) => ({
      if: {properties: {class: {const: c}}, required: ['class']},
      then: {properties: {engine: {enum: ENGINES[c]}}},
    })),
    properties: {
      class: {type: 'string', enum: ['operational', 'analytics', 'object']},
      engine: {type: 'string', enum: allEngines},
      version: {type: 'string', minLength: 1, maxLength: 64},
      replicas: {type: 'integer', minimum: 0, maximum: 100, default: 1},
      size: {...quantity, default: '1Gi'},
      backup: {
        type: 'object',
        additionalProperties: false,
        properties: {schedule: cron, retention: duration},
      },
      image,
      resources: {
        type: 'object',
        additionalProperties: false,
        description: "The engine's container requests and limits; each one left out keeps the engine's default.",
        properties: {
          requests: {type: 'object', additionalProperties: false, properties: {cpu: quantity, memory: quantity}},
          limits: {type: 'object', additionalProperties: false, properties: {cpu: quantity, memory: quantity}},
        },
      },
    },
  },
  'Where the product keeps its data: an operational, analytics or object store.',
)
