import type {FromSchema} from 'json-schema-to-ts'

export const checkResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'status', 'message'],
  properties: {
    id: {type: 'string', enum: ['node', 'kube-context', 'crds', 'operator', 'builders']},
    title: {type: 'string'},
    status: {type: 'string', enum: ['pass', 'warn', 'fail', 'skip'], description: 'warn does not fail the run; skip: the check needs a reachable cluster'},
    message: {type: 'string', description: 'what was found; kube-context names the server URL'},
    fix: {type: 'string', description: 'how to fix it, for fail and warn'},
  },
} as const

/** The shape of `dappmesh doctor --json`, printed whatever the exit code. */
export const doctorReportSchema = {
  $id: 'https://dappmesh.io/schemas/doctor.json',
  title: 'dappmesh doctor',
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'exitCode', 'checks'],
  properties: {
    ok: {type: 'boolean', description: 'true when no check failed (warnings allowed)'},
    exitCode: {type: 'integer', enum: [0, 1, 3], description: '0 all passed, 1 a check failed, 3 the cluster is unreachable or the kubeconfig/context unusable'},
    checks: {type: 'array', items: checkResultSchema},
  },
} as const

export type CheckResult = FromSchema<typeof checkResultSchema>
export type CheckStatus = CheckResult['status']
export type DoctorReport = FromSchema<typeof doctorReportSchema>
