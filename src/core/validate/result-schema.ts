import {RULES} from './finding.js'

const findingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file', 'line', 'column', 'path', 'rule', 'severity', 'message'],
  properties: {
    file: {type: 'string', description: 'relative to the project root, with forward slashes'},
    line: {type: 'integer', minimum: 1},
    column: {type: 'integer', minimum: 1},
    kind: {type: 'string'},
    name: {type: 'string'},
    path: {type: 'string', description: 'JSON pointer into the resource or contract document'},
    rule: {enum: RULES},
    severity: {enum: ['error', 'warning']},
    message: {type: 'string'},
  },
} as const

/** The shape of `dappmesh validate --json` (and `-o json`). */
export const validationResultSchema = {
  $id: 'https://dappmesh.io/schemas/validate.json',
  title: 'dappmesh validate',
  type: 'object',
  additionalProperties: false,
  required: ['valid', 'root', 'files', 'resources', 'errors', 'warnings', 'skipped', 'findings'],
  properties: {
    valid: {type: 'boolean'},
    root: {type: 'string'},
    files: {type: 'integer', minimum: 0},
    resources: {type: 'integer', minimum: 0},
    errors: {type: 'integer', minimum: 0},
    warnings: {type: 'integer', minimum: 0},
    skipped: {type: 'integer', minimum: 0, description: 'YAML documents of other tools, left out'},
    findings: {type: 'array', items: findingSchema},
  },
} as const
