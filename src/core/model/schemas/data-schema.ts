import {IDENTIFIER, identifier, resourceSchema, semver, text} from './common.js'

export const FIELD_TYPES = [
  'string', 'text', 'integer', 'long', 'number', 'decimal', 'boolean', 'date', 'time', 'timestamp', 'bytes', 'object', 'array', 'json',
] as const
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const

export const dataSchemaSchema = resourceSchema(
  'DataSchema',
  {
    type: 'object',
    additionalProperties: false,
    required: ['entity', 'versions'],
    properties: {
      entity: {type: 'string', pattern: IDENTIFIER, maxLength: 128},
      description: text,
      versions: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['version', 'states'],
          properties: {
            version: semver,
            states: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['name', 'fields'],
                properties: {
                  name: identifier,
                  description: text,
                  fields: {
                    type: 'array',
                    minItems: 1,
                    items: {
                      type: 'object',
                      additionalProperties: false,
                      required: ['name', 'type'],
                      properties: {
                        name: identifier,
                        type: {type: 'string', enum: FIELD_TYPES},
                        required: {type: 'boolean'},
                        primaryKey: {type: 'boolean'},
                        unique: {type: 'boolean'},
                        pii: {type: 'boolean'},
                        classification: {type: 'string', enum: CLASSIFICATIONS},
                        description: text,
                        enum: {type: 'array', minItems: 1, items: {type: 'string'}, description: 'The values the field may take.'},
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  'The schema of an entity: versions, each with the states data passes through, each with typed fields.',
)
