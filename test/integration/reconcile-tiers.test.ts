import assert from 'node:assert/strict'
import {execFile, execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'

import {loadKubeConfig} from '../../src/core/kube/kubeconfig.js'
import {resourcePath} from '../../src/core/kube/paths.js'
import {KubeApiError, KubeRest} from '../../src/core/kube/rest.js'
import {operatorClusterRoleRules} from '../../src/core/operator-install/manifests.js'
import {type OperatorResult, runOperator} from '../../src/core/reconcile/operator.js'
import {FIELD_MANAGER} from '../../src/core/reconcile/product/desired.js'
import {CHILDREN_AT_ONCE} from '../../src/core/reconcile/product/reconciler.js'
import {requireCluster} from '../helpers/cluster.js'
import {kubectlApply, persistentVolumes} from '../helpers/light-product.js'
import type {ProductCopy} from '../helpers/product.js'
import {proxiedOrderProduct} from '../helpers/proxy-kubeconfig.js'
import type {Forwarded, HttpProxy} from '../helpers/proxies.js'

/** How long the proxy holds every write before the API server sees it: a distant API server. */
const WRITE_LATENCY_MS = 150
/** What the pods of a product's workloads need before they start, by the resource of its path. */
const NEEDED_BY_PODS = ['secrets', 'serviceaccounts', 'configmaps', 'roles', 'rolebindings', 'clusterrolebindings', 'networkpolicies', 'services']
const WORKLOADS = ['statefulsets', 'deployments', 'cronjobs']

/**
 * A reconcile applies a product's children tier by tier, the children of a tier at once
 * (desired.ts APPLY_TIER). Seen from outside the operator: it runs in this process against the
 * real API server through an HTTP proxy of the test's, which delays each write and records when
 * it arrived and when it was answered.
 */
describe('operator run: a product\'s children, applied tier by tier (real control plane)', function () {
  let kubeconfig: string
  let p: ProductCopy
  let proxy: HttpProxy
  let remove: (() => void) | undefined
  let operator: {abort: AbortController; done: Promise<OperatorResult | Error>} | undefined
  const id = randomBytes(3).toString('hex')
  const rbacRole = `tiers-operator-${id}`
  const accountNamespace = `tiers-${id}`
  // kwok has no volume provisioner: the product's three StatefulSets' claims bind to these (made
  // once the product's namespace is known, each for its claim).
  let volumes: ReturnType<typeof persistentVolumes> = []
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-tiers-'))
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
  const kubectlIn = (input: string, ...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe']}).trim()

  before(async function () {
    kubeconfig = await requireCluster(this)
    const made = await proxiedOrderProduct(kubeconfig, 'tiers', accountNamespace, path.join(dir, 'kubeconfig'))
    p = made.product
    const claims = ['orders--object', 'orders--operational', 'orders-runtime'].map((statefulSet) => ({namespace: p.namespace, name: `data-${statefulSet}-0`}))
    volumes = persistentVolumes(`dappmesh-tiers-${id}`, claims.length, '20Gi', claims)
    kubectlApply(kubeconfig, volumes)
    proxy = made.proxy
    remove = made.remove
  })

  after(async () => {
    operator?.abort.abort()
    await proxy?.close()
    await operator?.done
    remove?.()
    try {
      kubectl('delete', 'clusterrolebinding,clusterrole', rbacRole, '--ignore-not-found')
      kubectl('delete', 'pv', ...volumes.map((v) => v.metadata.name), '--wait=false', '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
    rmSync(dir, {recursive: true, force: true})
  })

  it('refuses a RoleBinding whose Role does not exist yet to a client with only the operator\'s rights, and takes it once the Role does: a Role is applied a tier before its binding', async () => {
    // The installed operator's rights (operator install), held by a ServiceAccount of the test's.
    kubectl('create', 'serviceaccount', 'rights', '-n', p.namespace)
    kubectlIn(JSON.stringify({apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: {name: rbacRole}, rules: operatorClusterRoleRules()}), 'apply', '-f', '-')
    kubectl('create', 'clusterrolebinding', rbacRole, `--clusterrole=${rbacRole}`, `--serviceaccount=${p.namespace}:rights`)
    const token = kubectl('create', 'token', 'rights', '-n', p.namespace, '--duration', '10m')
    const rest = await KubeRest.create({...(await loadKubeConfig({kubeconfig})), user: {token}})
    try {
      const rbac = 'rbac.authorization.k8s.io/v1'
      const role = {apiVersion: rbac, kind: 'Role', metadata: {name: 'readers', namespace: p.namespace}, rules: [{apiGroups: [''], resources: ['configmaps'], verbs: ['get']}]}
      const binding = {
        apiVersion: rbac,
        kind: 'RoleBinding',
        metadata: {name: 'readers', namespace: p.namespace},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'readers'},
        subjects: [{kind: 'ServiceAccount', name: 'rights', namespace: p.namespace}],
      }
      const applyAs = (object: typeof role | typeof binding) => rest.apply(resourcePath(rbac, object.kind, p.namespace, object.metadata.name), object, {fieldManager: FIELD_MANAGER, force: true})
      await assert.rejects(applyAs(binding), (error: unknown) => {
        return error instanceof KubeApiError && error.status === 404
      }, 'RBAC cannot tell that the binding grants nothing its maker lacks')
      await applyAs(role)
      await applyAs(binding)
    } finally {
      rest.close()
    }
  })

  it(`writes a tier's children at once (at most ${CHILDREN_AT_ONCE}), a workload only once what its pods need is answered, in far less than a round trip per child; the product gets Ready`, async function () {
    this.timeout(240_000)
    proxy.delayWrites(WRITE_LATENCY_MS)
    const abort = new AbortController()
    const log: string[] = []
    const done = runOperator(
      {kubeconfig: path.join(dir, 'kubeconfig'), only: ['product'], scope: {namespaces: [p.namespace]}, healthPort: 0, runtimeImage: 'dappmesh:test', installCrds: false, log: (level, message) => log.push(`${level} ${message}`)},
      abort.signal,
    ).catch((error: Error) => error)
    operator = {abort, done}
    try {
      // Not execFileSync: the operator runs in this process.
      await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, 'wait', 'dataproduct/orders', '-n', p.namespace, '--for=condition=Ready', '--timeout=180s'])
    } catch (error) {
      const ended = await Promise.race([done, new Promise((resolve) => setTimeout(() => resolve('still running'), 100))])
      const claims = kubectl('get', 'pvc', '-n', p.namespace, '-o', 'custom-columns=CLAIM:.metadata.name,PHASE:.status.phase,VOLUME:.spec.volumeName')
      throw new Error(`operator: ${String(ended)}; not Ready: ${kubectl('get', 'dataproduct/orders', '-n', p.namespace, '-o', 'jsonpath={.status}')}\nclaims:\n${claims}\noperator log:\n${log.slice(-30).join('\n')}\n${(error as Error).message}`)
    }

    // The first write of each child (later reconciles find them unchanged), as the proxy saw it.
    const resource = new RegExp(`^/api(?:s/[^/]+)?/v1/(?:namespaces/${p.namespace}/)?(${[...NEEDED_BY_PODS, ...WORKLOADS].join('|')})(?:/([^/?]+))?`)
    const writes: Array<Forwarded & {resource: string}> = []
    const seen = new Set<string>()
    for (const write of proxy.writes) {
      const match = resource.exec(write.path)
      if (!match) continue
      const [, kind, name] = match
      // A credentials Secret is made by a POST to the collection, once; every other child is applied at its own path.
      if (name !== undefined && seen.has(`${kind}/${name}`)) continue
      if (name !== undefined) seen.add(`${kind}/${name}`)
      writes.push({...write, resource: kind})
    }
    const failed = writes.filter((w) => (w.status ?? 0) >= 400)
    assert.deepEqual(failed.map((w) => `${w.method} ${w.path} ${w.status}`), [], log.join('\n'))
    const needed = writes.filter((w) => NEEDED_BY_PODS.includes(w.resource))
    const workloads = writes.filter((w) => WORKLOADS.includes(w.resource))
    // examples/orders: 5 Secrets, 2 ServiceAccounts, 2 ConfigMaps, 3 Roles and bindings, a ClusterRoleBinding, 3 NetworkPolicies, 6 Services; 3 StatefulSets, 2 Deployments, a CronJob.
    assert.equal(needed.length, 25, writes.map((w) => w.path).join('\n'))
    assert.equal(workloads.length, 6, writes.map((w) => w.path).join('\n'))

    const lastNeeded = Math.max(...needed.map((w) => w.answered ?? Number.POSITIVE_INFINITY))
    const early = workloads.filter((w) => w.at < lastNeeded)
    assert.deepEqual(early.map((w) => w.path), [], 'no workload written before every object its pods need was answered')
    const roles = writes.filter((w) => w.resource === 'roles')
    const lastRole = Math.max(...roles.map((w) => w.answered ?? Number.POSITIVE_INFINITY))
    assert.deepEqual(writes.filter((w) => w.resource === 'rolebindings' && w.at < lastRole).map((w) => w.path), [], 'no RoleBinding written before the Roles were answered')

    // At most how many of them the API server had at once (arrived, not yet answered).
    const inFlight = Math.max(...writes.map((w) => writes.filter((o) => o.at <= w.at && (o.answered ?? Number.POSITIVE_INFINITY) > w.at).length))
    assert.ok(inFlight > 1, 'the children of one tier are written at once')
    assert.ok(inFlight <= CHILDREN_AT_ONCE, `at most ${CHILDREN_AT_ONCE} at once, saw ${inFlight}`)
    // One after another, each child takes at least the proxy's latency: 26 of them, 3.9 s. (The
    // credentials Secrets are made one after another before them, as before the tiers.)
    const children = writes.filter((w) => w.method !== 'POST')
    const span = Math.max(...children.map((w) => w.answered ?? 0)) - Math.min(...children.map((w) => w.at))
    assert.equal(children.length, 26)
    assert.ok(span < (children.length * WRITE_LATENCY_MS) / 2, `the children took ${span} ms, ${children.length} writes of ${WRITE_LATENCY_MS} ms each`)
  })
})
