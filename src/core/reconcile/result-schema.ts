import {LOOPS} from './operator.js'

/** The shape of `dappmesh operator run --json`, printed when it stops. */
export const operatorRunResultSchema = {
  $id: 'https://dappmesh.io/schemas/operator-run.json',
  title: 'dappmesh operator run',
  type: 'object',
  additionalProperties: false,
  required: ['loops', 'reconciles', 'errors'],
  properties: {
    loops: {type: 'array', items: {enum: LOOPS}},
    reconciles: {type: 'integer', minimum: 0},
    errors: {type: 'integer', minimum: 0},
  },
} as const
