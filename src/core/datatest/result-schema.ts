import type {FromSchema} from 'json-schema-to-ts'

const count = {type: 'integer', minimum: 0} as const

export const stateComparisonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['state', 'file', 'passed', 'expectedRows', 'actualRows', 'missing', 'unexpected', 'changed', 'columns', 'diff'],
  properties: {
    state: {type: 'string', description: 'the state compared, as a ref schema@version/state (…__rejected for its quarantine)'},
    file: {type: 'string', description: 'the expect file, relative to the project'},
    passed: {type: 'boolean'},
    expectedRows: count,
    actualRows: count,
    missing: {...count, description: 'expected rows the state does not hold'},
    unexpected: {...count, description: 'rows the state holds that were not expected'},
    changed: {...count, description: 'rows whose primary key matches but whose values differ'},
    columns: {type: 'array', items: {type: 'string'}, description: 'the columns compared (those of the expect file)'},
    diff: {type: 'array', items: {type: 'string'}, description: 'the first differing rows as a unified diff: `-` expected, `+` actual'},
    error: {type: 'string', description: 'what is wrong with the expect file (the comparison did not run)'},
  },
} as const

export const dataTestResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'passed', 'ms', 'states'],
  properties: {
    name: {type: 'string', description: 'the test: its directory under tests/'},
    passed: {type: 'boolean'},
    ms: {...count, description: 'wall time of its run and comparisons'},
    error: {type: 'string', description: 'why it failed before any comparison: a bad fixture, or the run failed'},
    states: {type: 'array', items: stateComparisonSchema},
  },
} as const

/** The shape of `dappmesh test --json`, printed whatever the exit code (0 or 1). */
export const dataTestsResultSchema = {
  $id: 'https://dappmesh.io/schemas/test.json',
  title: 'dappmesh test',
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'dir', 'passed', 'failed', 'tests'],
  properties: {
    ok: {type: 'boolean', description: 'every test passed'},
    dir: {type: 'string', description: 'absolute path of the product'},
    passed: count,
    failed: count,
    tests: {type: 'array', items: dataTestResultSchema},
  },
} as const

export type StateComparisonResult = FromSchema<typeof stateComparisonSchema>
export type DataTestResult = FromSchema<typeof dataTestResultSchema>
export type DataTestsResult = FromSchema<typeof dataTestsResultSchema>
