import {applyResultSchema} from '../../src/core/apply/result-schema.js'
import {buildResultSchema} from '../../src/core/build/result-schema.js'
import {errorResultSchema} from '../../src/core/cli/error-schema.js'
import {clusterCreateResultSchema, clusterDeleteResultSchema, clusterListResultSchema} from '../../src/core/cluster/result-schema.js'
import {dataTestsResultSchema} from '../../src/core/datatest/result-schema.js'
import {deleteResultSchema} from '../../src/core/delete/result-schema.js'
import {diffResultSchema} from '../../src/core/diff/result-schema.js'
import {doctorReportSchema} from '../../src/core/doctor/result-schema.js'
import {lineageGraphSchema} from '../../src/core/lineage/schema.js'
import {operatorInstallResultSchema, operatorUninstallResultSchema} from '../../src/core/operator-install/result-schema.js'
import {operatorRunResultSchema} from '../../src/core/reconcile/result-schema.js'
import {crdsResultSchema, renderResultSchema} from '../../src/core/render/result-schema.js'
import {runResultSchema} from '../../src/core/run/result-schema.js'
import {runRecordSchema, serveResultSchema} from '../../src/core/runtime/result-schema.js'
import {addEntityResultSchema, initResultSchema} from '../../src/core/scaffold/result-schema.js'
import {statusAllSchema, statusSchema} from '../../src/core/status/result-schema.js'
import {storageUsersResultSchema} from '../../src/core/storage/result-schema.js'
import {compile} from '../../src/core/validate/ajv.js'
import {validationResultSchema} from '../../src/core/validate/result-schema.js'

/** The JSON Schema of each command's `--json` result, by oclif command id. */
export const RESULT_SCHEMAS: Record<string, object> = {
  'add:entity': addEntityResultSchema,
  apply: applyResultSchema,
  build: buildResultSchema,
  'cluster:create': clusterCreateResultSchema,
  'cluster:delete': clusterDeleteResultSchema,
  'cluster:list': clusterListResultSchema,
  crds: crdsResultSchema,
  delete: deleteResultSchema,
  diff: diffResultSchema,
  doctor: doctorReportSchema,
  init: initResultSchema,
  'init:mesh': initResultSchema,
  lineage: lineageGraphSchema,
  'operator:install': operatorInstallResultSchema,
  'operator:run': operatorRunResultSchema,
  'operator:uninstall': operatorUninstallResultSchema,
  render: renderResultSchema,
  run: runResultSchema,
  serve: serveResultSchema,
  'storage:users': storageUsersResultSchema,
  status: {$id: 'https://dappmesh.io/schemas/status-any.json', title: 'dappmesh status', oneOf: [statusSchema, statusAllSchema]},
  test: dataTestsResultSchema,
  validate: validationResultSchema,
  'workflow:trigger': runRecordSchema,
}

export {errorResultSchema}

/** Asserts that `value` is what command `id` documents for its --json result (or a JSON error). */
export function assertResult(id: string, value: unknown, options: {error?: boolean} = {}): void {
  const check = compile(options.error ? errorResultSchema : RESULT_SCHEMAS[id])
  if (!check(value)) throw new Error(`${options.error ? 'error' : id} --json does not match its schema: ${JSON.stringify(check.errors?.slice(0, 3), null, 1)}\n${JSON.stringify(value).slice(0, 2000)}`)
}
