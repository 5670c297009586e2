import type {FromSchema} from 'json-schema-to-ts'

const count = {type: 'integer', minimum: 0} as const

export const transitionResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'state', 'status', 'rowsIn', 'rowsOut', 'rowsRejected', 'ms'],
  properties: {
    name: {type: 'string', description: 'the transition, or `ingest:<port>` for rows ingested into a state no transition declares'},
    state: {type: 'string', description: 'the state it writes, as a ref schema@version/state'},
    status: {type: 'string', enum: ['ok', 'failed', 'skipped'], description: 'skipped: an image transition (cluster only) or one without sql'},
    rowsIn: {...count, description: 'rows read: of the input for an ingestion, of the `from` states for a transition'},
    rowsOut: {...count, description: 'rows that passed the schema checks and are written'},
    rowsRejected: {...count, description: 'rows sent to <state>__rejected'},
    stateRows: {...count, description: 'rows the state holds after the run (ingested rows accumulate)'},
    ms: {...count, description: 'wall time'},
    checkMs: {...count, description: 'of ms, the schema checks beyond writing the rows: looking for repeated keys, and all of the row-by-row pass when a row broke a rule (casts and required fields are checked as the rows are written)'},
    reasons: {type: 'array', items: {type: 'string'}, description: 'the first reasons rows were rejected'},
    note: {type: 'string', description: 'why it was skipped, or what failed'},
  },
} as const

export const ruleResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rule', 'passed', 'value'],
  properties: {
    rule: {type: 'string', description: 'what was checked, e.g. `clean.amount nullValues mustBe 0`'},
    passed: {type: ['boolean', 'null'], description: 'null: not checked (a custom rule)'},
    value: {type: ['number', 'null'], description: 'the measured value'},
    message: {type: 'string'},
  },
} as const

export const contractResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['port', 'contract', 'state', 'passed', 'rules'],
  properties: {
    port: {type: 'string'},
    contract: {type: 'string'},
    state: {type: 'string'},
    passed: {type: 'boolean', description: 'every checked rule passed'},
    ms: {...count, description: 'wall time of checking the contract'},
    rules: {type: 'array', items: ruleResultSchema},
  },
} as const

/** The shape of `dappmesh run --json`, printed whatever the exit code (0 or 1). */
export const runResultSchema = {
  $id: 'https://dappmesh.io/schemas/run.json',
  title: 'dappmesh run',
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'run', 'published', 'runs', 'contracts'],
  properties: {
    ok: {type: 'boolean', description: 'every transition ran and every contract rule passed'},
    run: {type: 'string', description: 'the run id (the `_run` of rejected rows)'},
    published: {type: 'boolean', description: 'the states were written; false leaves every state as it was'},
    runs: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['flow', 'storage', 'transitions'],
        properties: {
          flow: {type: 'string'},
          storage: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'engine'],
            properties: {name: {type: 'string'}, engine: {type: 'string'}},
          },
          transitions: {type: 'array', items: transitionResultSchema},
        },
      },
    },
    contracts: {type: 'array', items: contractResultSchema},
    publishMs: {...count, description: 'wall time of publishing every state (absent when nothing was published)'},
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['message'],
      properties: {message: {type: 'string'}, transition: {type: 'string'}},
      description: 'why the run failed, when a transition or an input failed',
    },
  },
} as const

export type TransitionResult = FromSchema<typeof transitionResultSchema>
export type RuleResult = FromSchema<typeof ruleResultSchema>
export type ContractResult = FromSchema<typeof contractResultSchema>
export type RunResult = FromSchema<typeof runResultSchema>
