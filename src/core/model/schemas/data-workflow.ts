import {cron, dnsName, duration, identifier, image, resourceSchema} from './common.js'

export const dataWorkflowSchema = resourceSchema(
  'DataWorkflow',
  {
    type: 'object',
    additionalProperties: false,
    required: ['flow', 'activities'],
    properties: {
      flow: dnsName,
      schedule: cron,
      triggers: {type: 'array', items: {type: 'object', additionalProperties: false, required: ['port'], properties: {port: dnsName}}},
      activities: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'transition'],
          properties: {
            name: identifier,
            transition: identifier,
            dependsOn: {type: 'array', items: identifier},
            retry: {
              type: 'object',
              additionalProperties: false,
              properties: {maxAttempts: {type: 'integer', minimum: 1, maximum: 100}, backoff: duration},
            },
            timeout: duration,
          },
        },
      },
      image,
    },
  },
  'When and in which order a flow\'s transitions run.',
)
