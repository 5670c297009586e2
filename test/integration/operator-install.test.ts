import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {parseAllDocuments} from 'yaml'

import {OPERATOR_ENV} from '../../src/core/reconcile/footprint.js'

import {cli, flat} from '../helpers/cli.js'
import {requireCluster} from '../helpers/cluster.js'
import {type OperatorChild, eventually, startOperator} from '../helpers/operator-child.js'
import {orderProduct} from '../helpers/product.js'
import {assertResult} from '../helpers/result-schemas.js'

const NS = 'dappmesh-system'
const NAME = 'dappmesh-operator'
const SA = `system:serviceaccount:${NS}:${NAME}`

describe('operator install (real control plane)', function () {
  let kubeconfig: string
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const install = (...flags: string[]) => cli(['operator', 'install', '--kubeconfig', kubeconfig, ...flags], {timeout: 120_000})
  const canI = (...args: string[]) => spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'can-i', '--as', SA, ...args], {encoding: 'utf8'}).stdout.trim()

  before(async function () {
    kubeconfig = await requireCluster(this)
  })

  after(() => {
    // Leave the shared cluster as other suites expect it: the namespace dappmesh-system may be theirs too.
    try {
      kubectl('delete', 'clusterrolebinding,clusterrole', NAME, '--ignore-not-found')
      kubectl('delete', 'deployment,serviceaccount', NAME, '-n', NS, '--ignore-not-found')
      kubectl('delete', 'role,rolebinding', `${NAME}-leader-election`, '-n', NS, '--ignore-not-found')
      kubectl('delete', 'role,rolebinding', 'dappmesh-catalog-reader', '-n', NS, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  it('--dry-run prints the manifests as YAML and contacts no cluster', () => {
    const r = cli(['operator', 'install', '--dry-run', '--image', 'example.com/op:1', '--kubeconfig', path.join(os.tmpdir(), 'no-such-kubeconfig')])
    assert.equal(r.code, 0, r.stderr)
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS())
    assert.deepEqual(docs.map((d) => `${d.kind}/${d.metadata.name}`), [
      `Namespace/${NS}`,
      `ServiceAccount/${NAME}`,
      `ClusterRole/${NAME}`,
      `ClusterRoleBinding/${NAME}`,
      `Role/${NAME}-leader-election`,
      `RoleBinding/${NAME}-leader-election`,
      'Role/dappmesh-catalog-reader',
      'RoleBinding/dappmesh-catalog-reader',
      `Deployment/${NAME}`,
    ])
    const container = docs.at(-1).spec.template.spec.containers[0]
    assert.equal(container.image, 'example.com/op:1')
    assert.deepEqual(container.args.slice(0, 2), ['operator', 'run'], 'the image\'s entrypoint is dappmesh')
    assert.ok(container.args.includes('--runtime-image=example.com/op:1'), 'the runtimes run the operator\'s own image by default')
    for (const [name, value] of Object.entries(OPERATOR_ENV)) assert.deepEqual(container.env.find((e: {name: string}) => e.name === name), {name, value}, 'the environment the operator bench measures')
    // and on the real cluster, nothing was made
    assert.equal(spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'clusterrole', NAME]).status, 1)
  })

  it('applies the namespace, ServiceAccount, ClusterRole and binding, leader election Role and binding, and the Deployment', () => {
    const r = install('--json')
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    assertResult('operator:install', result)
    assert.equal(result.objects.length, 9)
    assert.ok(result.objects.filter((o: any) => o.kind !== 'Namespace').every((o: any) => o.action === 'created'), r.stdout)
    const version = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], {encoding: 'utf8'})).version
    assert.equal(result.image, `dappmesh:${version}`)
    json('get', 'serviceaccount', NAME, '-n', NS)
    json('get', 'role', `${NAME}-leader-election`, '-n', NS)
    const crb = json('get', 'clusterrolebinding', NAME)
    assert.deepEqual([crb.roleRef.name, crb.subjects], [NAME, [{kind: 'ServiceAccount', name: NAME, namespace: NS}]])
    const rb = json('get', 'rolebinding', `${NAME}-leader-election`, '-n', NS)
    assert.deepEqual(rb.subjects, [{kind: 'ServiceAccount', name: NAME, namespace: NS}])
  })

  it('lets every ServiceAccount read the catalog\'s index and each shard it may have, and no other ConfigMap in dappmesh-system', () => {
    const workload = ['--as', 'system:serviceaccount:some-domain:default', '--as-group', 'system:serviceaccounts', '--as-group', 'system:authenticated']
    const may = (...args: string[]) => spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'can-i', ...workload, ...args, '-n', NS], {encoding: 'utf8'}).stdout.trim()
    assert.equal(may('get', 'configmaps/dappmesh-catalog'), 'yes')
    assert.equal(may('get', 'configmaps/dappmesh-catalog-00'), 'yes')
    assert.equal(may('get', 'configmaps/dappmesh-catalog-63'), 'yes')
    assert.equal(may('get', 'configmaps/dappmesh-catalog-64'), 'no')
    assert.equal(may('get', 'configmaps/kube-root-ca.crt'), 'no')
    assert.equal(may('list', 'configmaps'), 'no')
    assert.equal(may('patch', 'configmaps/dappmesh-catalog-00'), 'no')
  })

  it('runs the operator with leader election, health probes, requests and limits, as a non-root user', () => {
    const d = json('get', 'deployment', NAME, '-n', NS)
    const pod = d.spec.template.spec
    const c = pod.containers[0]
    assert.equal(pod.serviceAccountName, NAME)
    assert.ok(c.args.includes('--leader-elect'), c.args.join(' '))
    assert.equal(c.livenessProbe.httpGet.path, '/healthz')
    assert.equal(c.readinessProbe.httpGet.path, '/readyz')
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory)
    assert.equal(pod.securityContext.runAsNonRoot, true)
    assert.notEqual(pod.securityContext.runAsUser, 0)
    assert.equal(c.securityContext.allowPrivilegeEscalation, false)
  })

  it('gives the ClusterRole no wildcard anywhere, and RBAC holds the ServiceAccount to it', () => {
    const role = json('get', 'clusterrole', NAME)
    for (const rule of role.rules) {
      for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs']) {
        assert.ok(!(rule[field] ?? []).some((v: string) => v.includes('*')), JSON.stringify(rule))
      }
    }
    assert.ok(!role.rules.some((r: any) => r.verbs.includes('escalate') || r.verbs.includes('bind') || r.verbs.includes('impersonate')))
    // What the reconcilers do, it may do; what they never do, it may not.
    assert.equal(canI('patch', 'statefulsets.apps', '-n', 'anywhere'), 'yes')
    assert.equal(canI('patch', 'dataproducts.dappmesh.io/status', '-n', 'anywhere'), 'yes')
    assert.equal(canI('create', 'validatingadmissionpolicies.admissionregistration.k8s.io'), 'yes')
    assert.equal(canI('create', 'pods', '-n', 'anywhere'), 'no')
    assert.equal(canI('patch', 'secrets', '-n', 'anywhere'), 'no')
    assert.equal(canI('delete', 'namespaces'), 'no')
    assert.equal(canI('create', 'customresourcedefinitions.apiextensions.k8s.io'), 'no')
    assert.equal(canI('update', 'leases.coordination.k8s.io', '-n', 'anywhere'), 'no')
    assert.equal(canI('update', 'leases.coordination.k8s.io', '-n', NS), 'yes')
    // A product's runtime: its account, and the binding that lets it review tokens (whose rights the operator holds, so needs no bind).
    assert.equal(canI('patch', 'serviceaccounts', '-n', 'anywhere'), 'yes')
    assert.equal(canI('create', 'clusterrolebindings.rbac.authorization.k8s.io'), 'yes')
    assert.equal(canI('create', 'tokenreviews.authentication.k8s.io'), 'yes')
    assert.equal(canI('bind', 'clusterroles.rbac.authorization.k8s.io'), 'no')
  })

  it('a second install changes nothing', () => {
    const before = ['clusterrole', 'clusterrolebinding'].map((k) => json('get', k, NAME).metadata.resourceVersion)
    const deployment = json('get', 'deployment', NAME, '-n', NS).metadata.resourceVersion
    const r = install('--json')
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).objects.map((o: any) => o.action), Array(9).fill('unchanged'))
    assert.deepEqual(['clusterrole', 'clusterrolebinding'].map((k) => json('get', k, NAME).metadata.resourceVersion), before)
    assert.equal(json('get', 'deployment', NAME, '-n', NS).metadata.resourceVersion, deployment)
  })

  it('--wait returns once the Deployment is available', () => {
    const r = install('--wait', '--timeout', '90s', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).available, true)
    const available = json('get', 'deployment', NAME, '-n', NS).status.conditions.find((c: any) => c.type === 'Available')
    assert.equal(available.status, 'True')
  })

  it('says it needs cluster-admin rights when the caller may not create the ClusterRole (exit 1)', () => {
    // Our client has no impersonation: the ServiceAccount's own token stands for a user without rights.
    const kc = saKubeconfig()
    try {
      const denied = cli(['operator', 'install', '--kubeconfig', kc.file])
      assert.equal(denied.code, 1, denied.stderr)
      assert.match(flat(denied.stderr), /the API server refused .* \(HTTP 403\): .* is forbidden/)
      assert.match(flat(denied.stderr), /it needs cluster-admin rights/)
    } finally {
      kc.remove()
    }
  })

  /** A kubeconfig for the same API server that authenticates as the operator's ServiceAccount. */
  function saKubeconfig(): {file: string; remove: () => void} {
    const token = kubectl('create', 'token', NAME, '-n', NS, '--duration', '1h').trim()
    const view = JSON.parse(kubectl('config', 'view', '--raw', '--minify', '--flatten', '-o', 'json'))
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-sa-'))
    const file = path.join(dir, 'kubeconfig')
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{name: 'c', cluster: view.clusters[0].cluster}],
        users: [{name: NAME, user: {token}}],
        contexts: [{name: NAME, context: {cluster: 'c', user: NAME}}],
        'current-context': NAME,
      }),
    )
    return {file, remove: () => rmSync(dir, {recursive: true, force: true})}
  }

  // The proof that the ClusterRole is enough: the reconcilers, run as the ServiceAccount, make a
  // product Ready. Confined to the product's namespace (-n), so no other suite's product is touched.
  it('is enough: run as the ServiceAccount, the operator makes a domain and a product Ready', async function () {
    this.timeout(240_000)
    const kc = saKubeconfig()
    const p = orderProduct('sa')
    let operator: OperatorChild | undefined
    // kwok has no volume provisioner: the product's three storages bind to these.
    const volumes = [0, 1, 2].map((i) => `dappmesh-sa-${p.domain}-${i}`)
    const ready = (kind: string, name: string, ...ns: string[]) => json('get', kind, name, ...ns).status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')
    try {
      for (const name of volumes) {
        execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {
          input: JSON.stringify({apiVersion: 'v1', kind: 'PersistentVolume', metadata: {name, labels: {'dappmesh.io/test': 'true'}}, spec: {capacity: {storage: '20Gi'}, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: {path: `/tmp/${name}`}}}),
          stdio: ['pipe', 'ignore', 'pipe'],
        })
      }
      // CRDs come from the installer (the role may only list them).
      operator = await startOperator(['--no-install-crds', '-n', p.namespace, '--kubeconfig', kc.file])
      const r = cli(['apply', p.dir, '--kubeconfig', kubeconfig], {timeout: 120_000})
      assert.equal(r.code, 0, r.stderr)
      try {
        // Waiting without blocking, so the operator's log keeps arriving.
        await eventually(() => ready('datadomain', p.domain), 'the domain to be Ready', 60_000)
        await eventually(() => ready('dataproduct', 'orders', '-n', p.namespace), 'the product to be Ready', 120_000)
      } catch (error) {
        const status = JSON.stringify(json('get', 'dataproduct', 'orders', '-n', p.namespace).status?.conditions)
        throw new Error(`${(error as Error).message}\nproduct conditions: ${status}\noperator log:\n${operator.log()}`)
      }
      assert.doesNotMatch(operator.log(), /forbidden/i, operator.log())
      // the governance policy was made with the role's rights too
      json('get', 'validatingadmissionpolicy', `dappmesh-require-contracts-${p.domain}`)
    } finally {
      try {
        // While the operator runs, so that it removes its finalizer (with the role's rights too).
        kubectl('delete', 'dataproduct', 'orders', '-n', p.namespace, '--timeout=60s', '--ignore-not-found')
      } catch {
        kubectl('patch', 'dataproduct', 'orders', '-n', p.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
      }
      await operator?.stop()
      kc.remove()
      try {
        kubectl('delete', 'namespace', p.namespace, '--wait=false', '--ignore-not-found')
        kubectl('delete', 'datadomain', p.domain, '--ignore-not-found')
        kubectl('delete', 'persistentvolume', ...volumes, '--wait=false', '--ignore-not-found')
      } catch {
        // the cluster goes away at the end of the run anyway
      }
      p.remove()
    }
  })
})
