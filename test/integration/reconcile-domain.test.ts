import assert from 'node:assert/strict'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {copyFileSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'


import {BIN, cli} from '../helpers/cli.js'
import {requireCluster} from '../helpers/cluster.js'
import {type ProductCopy, orderProduct} from '../helpers/product.js'

describe('operator run: the domain and mesh reconcilers (real control plane)', function () {
  let kubeconfig: string
  let operator: ChildProcess | undefined
  let operatorLog = ''
  let p: ProductCopy
  const suite = randomBytes(3).toString('hex')
  // The operator reconciles only what carries this label (-l): the suite's own mesh and domains.
  const label = `dappmesh.io/test-suite=dom-${suite}`
  const mesh = `acme-${suite}`
  const strayDomain = `nomesh-${suite}`
  const unlabelled = `unlabelled-${suite}`
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const apply = (dir: string, ...flags: string[]) => cli(['apply', dir, '--kubeconfig', kubeconfig, ...flags], {timeout: 120_000})
  /**
   * Applies the product's copies of its mesh and domain as the platform project (mesh and domains
   * only) that owns them: a product's own apply never changes an existing mesh or domain.
   */
  const applyPlatform = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-platform-'))
    try {
      copyFileSync(path.join(p.dir, 'mesh/cluster.yaml'), path.join(dir, 'mesh.yaml'))
      copyFileSync(path.join(p.dir, 'mesh/domain.yaml'), path.join(dir, 'domain.yaml'))
      return apply(dir)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }

  before(async function () {
    kubeconfig = await requireCluster(this)
    p = orderProduct('dom')
    const labels = `  labels:\n    dappmesh.io/test-suite: dom-${suite}\n`
    p.edit('mesh/cluster.yaml', (t) => t.replace(/name: acme\n/, `name: ${mesh}\n${labels}`))
    p.edit('mesh/domain.yaml', (t) => t.replace(/(name: \S+\n)/, `$1${labels}`).replace('mesh: acme', `mesh: ${mesh}`))
    operator = spawn(process.execPath, [BIN, 'operator', 'run', '--only', 'mesh,domain', '--selector', label, '--kubeconfig', kubeconfig], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    operator.stderr!.on('data', (chunk: Buffer) => (operatorLog += chunk.toString('utf8')))
    const deadline = Date.now() + 30_000
    while (!/caches synced/.test(operatorLog)) {
      if (Date.now() > deadline) throw new Error(`the operator did not start:\n${operatorLog}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })

  after(async () => {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator!.once('exit', resolve))
      operator.kill('SIGTERM')
      await exited
    }
    try {
      kubectl('delete', 'namespace', p.namespace, strayDomain, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'datadomain', p.domain, strayDomain, unlabelled, '--ignore-not-found')
      kubectl('delete', 'datamesh', mesh, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
    p.remove()
  })

  it('gives a domain a default-deny ingress policy, its quota and default requests, owned by the DataDomain, and makes it Ready', () => {
    const r = apply(p.dir)
    assert.equal(r.code, 0, r.stderr)
    kubectl('wait', `datadomain/${p.domain}`, '--for=condition=Ready', '--timeout=60s')
    const domain = json('get', 'datadomain', p.domain)
    const owned = (o: any) => o.metadata.ownerReferences?.[0]?.uid === domain.metadata.uid && o.metadata.ownerReferences[0].controller === true
    const policy = json('get', 'networkpolicy', 'dappmesh-default-deny', '-n', p.namespace)
    assert.deepEqual([policy.spec.podSelector, policy.spec.policyTypes, policy.spec.ingress], [{}, ['Ingress'], undefined])
    assert.ok(owned(policy))
    const quota = json('get', 'resourcequota', 'dappmesh-quota', '-n', p.namespace)
    assert.deepEqual(quota.spec.hard, {'requests.cpu': '8', 'requests.memory': '16Gi', 'requests.storage': '100Gi'})
    assert.ok(owned(quota))
    assert.ok(owned(json('get', 'limitrange', 'dappmesh-defaults', '-n', p.namespace)))
    assert.equal(domain.status.observedGeneration, domain.metadata.generation)
    assert.deepEqual(domain.status.components.map((c: any) => `${c.kind}/${c.name}`).sort(), [
      'LimitRange/dappmesh-defaults',
      `Namespace/${p.namespace}`,
      'NetworkPolicy/dappmesh-default-deny',
      'ResourceQuota/dappmesh-quota',
      // the mesh's governance (requireContracts, requireClassificationForPii), enforced by the API server
      `ValidatingAdmissionPolicy/dappmesh-classify-pii-${p.domain}`,
      `ValidatingAdmissionPolicy/dappmesh-require-contracts-${p.domain}`,
      `ValidatingAdmissionPolicyBinding/dappmesh-classify-pii-${p.domain}`,
      `ValidatingAdmissionPolicyBinding/dappmesh-require-contracts-${p.domain}`,
    ])
  })

  it('counts the domains and products of the mesh in its status', () => {
    kubectl('wait', `datamesh/${mesh}`, '--for=jsonpath={.status.domains}=1', '--timeout=60s')
    kubectl('wait', `datamesh/${mesh}`, '--for=jsonpath={.status.products}=1', '--timeout=60s')
    const ready = json('get', 'datamesh', mesh).status.conditions.find((c: any) => c.type === 'Ready')
    assert.equal(ready.message, '1 domain, 1 product')
  })

  it('leaves meshes and domains its --selector does not match alone', async () => {
    const domain = {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataDomain', metadata: {name: unlabelled}, spec: {mesh, owner: 'nobody@example.com'}}
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {input: JSON.stringify(domain), stdio: ['pipe', 'ignore', 'inherit']})
    // The labelled mesh counts every domain that names it (the count is the cluster's truth), so its status changing proves the operator saw the event.
    kubectl('wait', `datamesh/${mesh}`, '--for=jsonpath={.status.domains}=2', '--timeout=60s')
    await new Promise((resolve) => setTimeout(resolve, 2000))
    assert.equal(json('get', 'datadomain', unlabelled).status, undefined, 'no status on an unselected domain')
    assert.throws(() => kubectl('get', 'namespace', unlabelled), /NotFound/, 'no namespace for an unselected domain')
    assert.doesNotMatch(operatorLog, new RegExp(`applied Namespace ${unlabelled}\\b`))
  })

  it('shares the namespace with apply: applying again still succeeds and changes nothing', () => {
    const r = apply(p.dir, '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.ok(JSON.parse(r.stdout).objects.every((o: any) => o.action === 'unchanged'), r.stdout)
  })

  it('takes a quota change to the ResourceQuota, and removes it and the LimitRange when the quota goes', async () => {
    p.edit('mesh/domain.yaml', (t) => t.replace('cpu: "8"', 'cpu: "4"'))
    assert.equal(applyPlatform().code, 0)
    kubectl('wait', 'resourcequota/dappmesh-quota', '-n', p.namespace, '--for=jsonpath={.spec.hard.requests\\.cpu}=4', '--timeout=60s')
    // A field removed (the rest unchanged) reaches the cluster too: the storage limit goes.
    p.edit('mesh/domain.yaml', (t) => t.replace(/ {4}storage: 100Gi\n/, ''))
    assert.equal(applyPlatform().code, 0)
    for (const deadline = Date.now() + 60_000; json('get', 'resourcequota', 'dappmesh-quota', '-n', p.namespace).spec.hard['requests.storage'] !== undefined; ) {
      if (Date.now() > deadline) assert.fail('the quota still limits storage 60s after the limit was removed from the domain')
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    assert.deepEqual(json('get', 'resourcequota', 'dappmesh-quota', '-n', p.namespace).spec.hard, {'requests.cpu': '4', 'requests.memory': '16Gi'})
    p.edit('mesh/domain.yaml', (t) => t.replace(/ {2}quota:\n(?: {4}.*\n)+/, ''))
    assert.equal(applyPlatform().code, 0)
    kubectl('wait', 'resourcequota/dappmesh-quota', 'limitrange/dappmesh-defaults', '-n', p.namespace, '--for=delete', '--timeout=60s')
    kubectl('get', 'networkpolicy', 'dappmesh-default-deny', '-n', p.namespace)
  })

  it('says a domain\'s mesh does not resolve, and still makes its namespace', () => {
    const domain = {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataDomain', metadata: {name: strayDomain, labels: {'dappmesh.io/test-suite': `dom-${suite}`}}, spec: {mesh: 'nowhere', owner: 'nobody@example.com'}}
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {input: JSON.stringify(domain), stdio: ['pipe', 'ignore', 'inherit']})
    kubectl('wait', `datadomain/${strayDomain}`, '--for=condition=ReferencesResolved=False', '--timeout=60s')
    const status = json('get', 'datadomain', strayDomain).status
    assert.equal(status.conditions.find((c: any) => c.type === 'ReferencesResolved').message, 'missing: DataMesh nowhere')
    assert.equal(status.conditions.find((c: any) => c.type === 'Ready').status, 'False')
    kubectl('wait', `namespace/${strayDomain}`, '--for=create', '--timeout=60s')
    assert.equal(kubectl('get', 'namespace', strayDomain, '-o', 'jsonpath={.metadata.labels.dappmesh\\.io/domain}'), strayDomain)
  })

  it('on deletion of the domain removes its children and keeps its namespace', () => {
    kubectl('delete', 'datadomain', p.domain, '--timeout=60s')
    kubectl('wait', 'networkpolicy/dappmesh-default-deny', '-n', p.namespace, '--for=delete', '--timeout=60s')
    assert.equal(kubectl('get', 'namespace', p.namespace, '-o', 'jsonpath={.status.phase}'), 'Active')
  })
})
