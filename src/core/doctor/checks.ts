import {readFileSync} from 'node:fs'

import semver from 'semver'

import {SCHEMA_HASH_ANNOTATION, generateCrds} from '../crds/generate.js'
import {dockerEngineAnswers, findOnPath} from '../cluster/tools.js'
import {compareCrds} from '../kube/crds-install.js'
import {type LoadedKubeConfig, unreachable} from '../kube/kubeconfig.js'
import type {KubeObject, Lease} from '../kube/objects.js'
import {KubeApiError, KubeRest} from '../kube/rest.js'
import type {CheckResult} from './result-schema.js'

export type {CheckResult, CheckStatus} from './result-schema.js'

export const OPERATOR_NAMESPACE = 'dappmesh-system'

export function checkNode(version = process.versions.node): CheckResult {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'))
  const range: string = pkg.engines?.node ?? '>=20'
  if (semver.satisfies(version, range)) return {id: 'node', title: 'Node.js', status: 'pass', message: `Node.js ${version} satisfies ${range}`}
  return {id: 'node', title: 'Node.js', status: 'fail', message: `Node.js ${version} does not satisfy ${range}`, fix: `install Node.js ${range} (https://nodejs.org/), e.g. with nvm install 20`}
}

export async function checkCrds(loaded: LoadedKubeConfig): Promise<CheckResult> {
  const states = await compareCrds(loaded, generateCrds(), SCHEMA_HASH_ANNOTATION)
  const bad = states.filter((state) => state.state !== 'current')
  const fix = 'install or upgrade them: dappmesh crds | kubectl apply --server-side --field-manager dappmesh --force-conflicts -f -  (dappmesh apply does it too)'
  if (bad.length === 0) return {id: 'crds', title: 'dappmesh CRDs', status: 'pass', message: `all ${states.length} CRDs installed, current and Established`}
  const describe = (state: string) => bad.filter((item) => item.state === state).map((item) => item.name)
  const parts = [
    ['missing', describe('missing')],
    ['outdated (schema hash differs from this dappmesh)', describe('outdated')],
    ['not Established', describe('not-established')],
  ]
    .filter(([, names]) => names.length > 0)
    .map(([what, names]) => `${what}: ${(names as string[]).join(', ')}`)
  return {id: 'crds', title: 'dappmesh CRDs', status: 'fail', message: `${bad.length} of ${states.length} CRDs are not current; ${parts.join('; ')}`, fix}
}

/**
 * The operator runs either in the cluster (a Deployment in dappmesh-system with an available
 * replica) or on someone's machine (`operator run --leader-elect` renews a Lease there).
 */
export async function checkOperator(loaded: LoadedKubeConfig, now = Date.now()): Promise<CheckResult> {
  const title = 'dappmesh operator'
  const fix = 'deploy it with dappmesh operator install, or run it locally with dappmesh operator run'
  const rest = await KubeRest.create(loaded, {maxSockets: 1})
  const listOrEmpty = <T extends KubeObject>(path: string) =>
    rest.list<T>(path).catch((error: unknown) => {
      if (error instanceof KubeApiError && error.status === 404) return {items: [] as T[]}
      throw unreachable(loaded, error)
    })
  type Deployment = KubeObject & {status?: {availableReplicas?: number}}
  const [deployments, leases] = await Promise.all([
    listOrEmpty<Deployment>(`/apis/apps/v1/namespaces/${OPERATOR_NAMESPACE}/deployments`),
    listOrEmpty<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NAMESPACE}/leases`),
  ]).finally(() => rest.close())
  const available = deployments.items.find((deployment) => (deployment.status?.availableReplicas ?? 0) > 0)
  if (available) {
    return {id: 'operator', title, status: 'pass', message: `Deployment ${OPERATOR_NAMESPACE}/${available.metadata?.name} has ${available.status?.availableReplicas} available replica(s)`}
  }
  const held = leases.items.find((lease) => {
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0
    const duration = (lease.spec?.leaseDurationSeconds ?? 15) * 1000
    return lease.spec?.holderIdentity && now - renewed <= duration * 2
  })
  if (held) {
    return {id: 'operator', title, status: 'pass', message: `running outside the cluster: Lease ${OPERATOR_NAMESPACE}/${held.metadata?.name} is held by ${held.spec?.holderIdentity}`}
  }
  const found = deployments.items.length > 0 ? ` (Deployment ${deployments.items.map((item) => item.metadata?.name).join(', ')} has no available replica)` : ''
  return {id: 'operator', title, status: 'warn', message: `not running: no available Deployment and no live Lease in ${OPERATOR_NAMESPACE}${found}`, fix}
}

export async function checkBuilders(env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const title = 'image builders'
  const found: string[] = []
  const notes: string[] = []
  for (const builder of ['buildah', 'podman']) if (await findOnPath(builder, env.PATH)) found.push(builder)
  if (await findOnPath('docker', env.PATH)) {
    if (await dockerEngineAnswers(env, 5000)) found.push('docker')
    else notes.push('docker is on PATH but no engine answers `docker info`')
  }
  const note = notes.length > 0 ? ` (${notes.join('; ')})` : ''
  if (found.length > 0) return {id: 'builders', title, status: 'pass', message: `available: ${found.join(', ')}${note}`}
  return {
    id: 'builders',
    title,
    status: 'fail',
    message: `no image builder found: dappmesh build needs buildah, podman or docker${note}`,
    fix: 'install buildah (apt-get install buildah) or podman, or start a Docker engine',
  }
}
