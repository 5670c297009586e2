/** The shape of every failure with `--json` (see error-output.ts), usage errors included. */
export const errorResultSchema = {
  $id: 'https://dappmesh.io/schemas/error.json',
  title: 'a dappmesh command that failed, with --json',
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['message', 'exit', 'suggestions'],
      properties: {
        message: {type: 'string', minLength: 1},
        exit: {type: 'integer', enum: [1, 2, 3, 4, 130], description: 'the exit code: 1 failed, 2 usage, 3 unreachable, 4 timeout, 130 interrupted'},
        suggestions: {type: 'array', items: {type: 'string'}, description: 'what to do about it'},
      },
    },
  },
} as const
