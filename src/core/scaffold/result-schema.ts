import type {FromSchema} from 'json-schema-to-ts'

const files = {
  type: 'array',
  description: 'the files written, relative to dir, with forward slashes, in the order written',
  items: {type: 'string', minLength: 1},
} as const

/**
 * The shape of `dappmesh init --json`: the documented contract for tools that read it. The
 * TypeScript type is derived from it, and the tests check the CLI's output against it.
 */
export const initResultSchema = {
  $id: 'https://dappmesh.io/schemas/init.json',
  title: 'dappmesh init',
  type: 'object',
  additionalProperties: false,
  required: ['dir', 'files'],
  properties: {
    dir: {type: 'string', description: 'absolute path of the project directory'},
    files,
  },
} as const

/** The shape of `dappmesh add entity --json`. */
export const addEntityResultSchema = {
  $id: 'https://dappmesh.io/schemas/add-entity.json',
  title: 'dappmesh add entity',
  type: 'object',
  additionalProperties: false,
  required: ['dir', 'entity', 'outputPort', 'files'],
  properties: {
    dir: {type: 'string', description: 'absolute path of the project root (the directory of dappmesh.yaml)'},
    entity: {type: 'string', description: 'the entity added'},
    outputPort: {type: 'string', description: 'the OutputPort made for it, to grant in a DataRole'},
    files,
  },
} as const

export type InitResult = FromSchema<typeof initResultSchema>
export type AddEntityResult = FromSchema<typeof addEntityResultSchema>
