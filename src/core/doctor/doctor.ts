import {ClusterUnreachableError} from '../errors.js'
import {type KubeTarget, loadKubeConfig, probeServer} from '../kube/kubeconfig.js'
import {type CheckResult, checkBuilders, checkCrds, checkNode, checkOperator} from './checks.js'
import type {DoctorReport} from './result-schema.js'

export type {DoctorReport} from './result-schema.js'

/**
 * Runs every check and reports each with how to fix it. Cluster checks are skipped when the
 * context cannot be reached; that case exits 3 like every other cluster command.
 */
export async function runDoctor(options: KubeTarget & {env?: NodeJS.ProcessEnv} = {}): Promise<DoctorReport> {
  const checks: CheckResult[] = [checkNode()]
  let unreachable = false
  try {
    const loaded = await loadKubeConfig(options)
    const version = await probeServer(loaded)
    checks.push({id: 'kube-context', title: 'Kubernetes context', status: 'pass', message: `context ${loaded.context} reaches ${loaded.server} (Kubernetes ${version.gitVersion})`})
    checks.push(await guard('crds', 'dappmesh CRDs', () => checkCrds(loaded)))
    checks.push(await guard('operator', 'dappmesh operator', () => checkOperator(loaded)))
  } catch (error) {
    if (!(error instanceof ClusterUnreachableError)) throw error
    unreachable = true
    checks.push({id: 'kube-context', title: 'Kubernetes context', status: 'fail', message: error.message, fix: error.suggestions.join('; ') || undefined})
    checks.push({id: 'crds', title: 'dappmesh CRDs', status: 'skip', message: 'skipped: no reachable Kubernetes context'})
    checks.push({id: 'operator', title: 'dappmesh operator', status: 'skip', message: 'skipped: no reachable Kubernetes context'})
  }
  checks.push(await checkBuilders(options.env))
  const failed = checks.some((check) => check.status === 'fail')
  // 3 and 1 as everywhere (DESIGN §4): unreachable or unusable kubeconfig, else a failed check.
  const exitCode = unreachable ? 3 : failed ? 1 : 0
  return {ok: !failed, exitCode, checks}
}

/** A check that loses the cluster half-way fails alone; the report goes on. */
async function guard(id: CheckResult['id'], title: string, check: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check()
  } catch (error) {
    if (error instanceof ClusterUnreachableError) return {id, title, status: 'fail', message: error.message, fix: error.suggestions.join('; ') || undefined}
    throw error
  }
}
