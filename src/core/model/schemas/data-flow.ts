import {FLOW_STATE, dnsName, identifier, image, resourceSchema, semver} from './common.js'

export const TRANSITION_KINDS = ['ingestion', 'transformation', 'enrichment', 'merge', 'aggregation', 'serving'] as const
const flowState = {type: 'string', pattern: FLOW_STATE, maxLength: 253} as const

export const dataFlowSchema = resourceSchema(
  'DataFlow',
  {
    type: 'object',
    additionalProperties: false,
    required: ['schema', 'version', 'transitions'],
    properties: {
      schema: dnsName,
      version: semver,
      storage: {
        ...dnsName,
        description: 'The DataStorage that holds the states of this flow (default: the analytics storage, else the operational one, else an embedded DuckDB file).',
      },
      inputs: {
        type: 'array',
        items: {type: 'object', additionalProperties: false, required: ['port', 'state'], properties: {port: dnsName, state: flowState}},
      },
      transitions: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'from', 'to', 'kind'],
          properties: {
            name: identifier,
            from: {type: 'array', items: flowState},
            to: flowState,
            kind: {type: 'string', enum: TRANSITION_KINDS},
            sql: {type: 'string', maxLength: 65536},
            image,
          },
        },
      },
      outputs: {
        type: 'array',
        items: {type: 'object', additionalProperties: false, required: ['state', 'port'], properties: {state: flowState, port: dnsName}},
      },
    },
  },
  'How data moves between the states of a schema version: inputs, transitions, outputs.',
)
