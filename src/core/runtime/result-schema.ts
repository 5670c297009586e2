/** The `--json` results of `dappmesh serve` and `dappmesh workflow trigger`. */

export const serveResultSchema = {
  $id: 'https://dappmesh.io/schemas/serve.json',
  title: 'dappmesh serve',
  description: 'printed when the runtime stops (SIGINT or SIGTERM)',
  type: 'object',
  additionalProperties: false,
  required: ['url', 'product', 'stoppedBy'],
  properties: {
    url: {type: 'string', description: 'where the runtime listened'},
    product: {type: 'string'},
    stoppedBy: {type: 'string', description: 'the signal that stopped it'},
  },
} as const

const activitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'transition', 'status', 'attempts', 'ms'],
  properties: {
    name: {type: 'string'},
    transition: {type: 'string'},
    status: {type: 'string', enum: ['pending', 'running', 'succeeded', 'failed', 'timed-out', 'skipped']},
    attempts: {type: 'integer', minimum: 0},
    ms: {type: 'number', minimum: 0},
    error: {type: 'string'},
  },
} as const

/** A workflow run as `GET /v1/runs/<id>` and `dappmesh workflow trigger --json` report it. */
export const runRecordSchema = {
  $id: 'https://dappmesh.io/schemas/workflow-run.json',
  title: 'dappmesh workflow trigger',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'workflow', 'status', 'startedAt', 'finishedAt', 'ms', 'activities', 'result', 'error'],
  properties: {
    id: {type: 'string'},
    workflow: {type: 'string'},
    status: {type: 'string', enum: ['running', 'succeeded', 'failed', 'timed-out', 'abandoned']},
    startedAt: {type: 'string'},
    finishedAt: {type: ['string', 'null']},
    ms: {type: ['number', 'null']},
    activities: {type: 'array', items: activitySchema},
    result: {description: 'what the run published, as `dappmesh run --json` reports it (null until it finished)'},
    error: {type: ['string', 'null']},
  },
} as const
