import assert from 'node:assert/strict'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {BIN, cli} from '../helpers/cli.js'
import {requireCluster} from '../helpers/cluster.js'
import {type ProductCopy, orderProduct} from '../helpers/product.js'

// Opt-in (DAPPMESH_TEST_OPERATOR=1) until these suites stop interfering with the others in one shared
// cluster: in a full run the operators they start reconcile other suites' products (issue 6).
const operatorSuite = process.env.DAPPMESH_TEST_OPERATOR === '1' ? describe : describe.skip

operatorSuite('operator run: the domain and mesh reconcilers (real control plane)', function () {
  let kubeconfig: string
  let operator: ChildProcess | undefined
  let operatorLog = ''
  let p: ProductCopy
  const strayDomain = `nomesh-${randomBytes(3).toString('hex')}`
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const apply = (dir: string, ...flags: string[]) => cli(['apply', dir, '--kubeconfig', kubeconfig, ...flags], {timeout: 120_000})

  before(async function () {
    kubeconfig = await requireCluster(this)
    p = orderProduct('dom')
    operator = spawn(process.execPath, [BIN, 'operator', 'run', '--only', 'mesh,domain', '--kubeconfig', kubeconfig], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
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
      kubectl('delete', 'datadomain', p.domain, strayDomain, '--ignore-not-found')
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
    assert.deepEqual(domain.status.components.map((c: any) => `${c.kind}/${c.name}`).sort(), ['LimitRange/dappmesh-defaults', 'Namespace/' + p.namespace, 'NetworkPolicy/dappmesh-default-deny', 'ResourceQuota/dappmesh-quota'])
  })

  it('counts the domains and products of the mesh in its status', () => {
    const domains = json('get', 'datadomains').items.filter((d: any) => d.spec.mesh === 'acme').map((d: any) => d.metadata.name)
    const products = json('get', 'dataproducts', '-A').items.filter((x: any) => domains.includes(x.spec.domain)).length
    kubectl('wait', 'datamesh/acme', `--for=jsonpath={.status.domains}=${domains.length}`, '--timeout=60s')
    kubectl('wait', 'datamesh/acme', `--for=jsonpath={.status.products}=${products}`, '--timeout=60s')
    assert.ok(products >= 1)
    const ready = json('get', 'datamesh', 'acme').status.conditions.find((c: any) => c.type === 'Ready')
    assert.equal(ready.message, `${domains.length} domains, ${products} products`)
  })

  it('shares the namespace with apply: applying again still succeeds and changes nothing', () => {
    const r = apply(p.dir, '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.ok(JSON.parse(r.stdout).objects.every((o: any) => o.action === 'unchanged'), r.stdout)
  })

  it('takes a quota change to the ResourceQuota, and removes it and the LimitRange when the quota goes', () => {
    p.edit('mesh/domain.yaml', (t) => t.replace('cpu: "8"', 'cpu: "4"'))
    assert.equal(apply(p.dir).code, 0)
    kubectl('wait', 'resourcequota/dappmesh-quota', '-n', p.namespace, '--for=jsonpath={.spec.hard.requests\\.cpu}=4', '--timeout=60s')
    p.edit('mesh/domain.yaml', (t) => t.replace(/ {2}quota:\n(?: {4}.*\n)+/, ''))
    assert.equal(apply(p.dir).code, 0)
    kubectl('wait', 'resourcequota/dappmesh-quota', 'limitrange/dappmesh-defaults', '-n', p.namespace, '--for=delete', '--timeout=60s')
    kubectl('get', 'networkpolicy', 'dappmesh-default-deny', '-n', p.namespace)
  })

  it('says a domain\'s mesh does not resolve, and still makes its namespace', () => {
    const domain = {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataDomain', metadata: {name: strayDomain}, spec: {mesh: 'nowhere', owner: 'nobody@example.com'}}
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
