import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {requireCluster} from '../helpers/cluster.js'
import {type OperatorChild, eventually, startOperator} from '../helpers/operator-child.js'

describe('operator run: the domain\'s governance ValidatingAdmissionPolicy (real control plane)', function () {
  let kubeconfig: string
  let operator: OperatorChild | undefined
  const id = randomBytes(3).toString('hex')
  const mesh = `gov-${id}`
  const domain = `govdom-${id}`
  const ns = `govdom-${id}`
  const outside = `govout-${id}`
  const contracts = `dappmesh-require-contracts-${domain}`
  const pii = `dappmesh-classify-pii-${domain}`
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  /** kubectl create of one object: the exit code and what it said. */
  const create = (object: any) => {
    const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'create', '-f', '-'], {input: JSON.stringify(object), encoding: 'utf8'})
    return {code: r.status, output: `${r.stdout}${r.stderr}`}
  }
  const port = (name: string, namespace: string, contract?: string) => ({
    apiVersion: 'dappmesh.io/v1alpha1',
    kind: 'OutputPort',
    metadata: {name, namespace, labels: {'dappmesh.io/product': 'shop'}},
    spec: {entity: 'orders', type: 'table', schema: 'orders@1.0.0/daily', ...(contract ? {contract} : {})},
  })
  const schema = (name: string, namespace: string, classification?: string) => ({
    apiVersion: 'dappmesh.io/v1alpha1',
    kind: 'DataSchema',
    metadata: {name, namespace, labels: {'dappmesh.io/product': 'shop'}},
    spec: {
      entity: 'customers',
      versions: [{version: '1.0.0', states: [{name: 'raw', fields: [{name: 'id', type: 'string', primaryKey: true}, {name: 'email', type: 'string', pii: true, ...(classification ? {classification} : {})}]}]}],
    },
  })

  before(async function () {
    kubeconfig = await requireCluster(this)
    operator = await startOperator(['--only', 'domain', '--kubeconfig', kubeconfig])
    kubectl('create', 'namespace', outside)
    // No governance in the spec: the schema's defaults (both rules on) hold.
    const objects = [
      {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataMesh', metadata: {name: mesh}, spec: {description: 'admission test'}},
      {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataDomain', metadata: {name: domain}, spec: {mesh, owner: 'team@example.com', namespace: ns}},
    ]
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects}), stdio: ['pipe', 'pipe', 'pipe']})
  })

  after(async () => {
    await operator?.stop()
    try {
      kubectl('delete', 'namespace', ns, outside, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'datadomain', domain, '--ignore-not-found')
      kubectl('delete', 'datamesh', mesh, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
  })

  it('makes per rule a policy and a binding owned by the domain, bound to the domain\'s namespace', async () => {
    kubectl('wait', `datadomain/${domain}`, '--for=condition=Ready', '--timeout=60s')
    const uid = json('get', 'datadomain', domain).metadata.uid
    for (const policy of [contracts, pii]) {
      const vap = json('get', 'validatingadmissionpolicy', policy)
      const binding = json('get', 'validatingadmissionpolicybinding', policy)
      for (const o of [vap, binding]) assert.equal(o.metadata.ownerReferences[0].uid, uid)
      assert.deepEqual(binding.spec.matchResources.namespaceSelector, {matchLabels: {'kubernetes.io/metadata.name': ns}})
      assert.deepEqual(binding.spec.validationActions, ['Deny'])
      assert.equal(binding.spec.policyName, policy)
      // The API server type-checked the CEL against the CRD's schema and found nothing to warn about.
      await eventually(() => json('get', 'validatingadmissionpolicy', policy).status?.observedGeneration === vap.metadata.generation, 'the policy to be type-checked')
      assert.deepEqual(json('get', 'validatingadmissionpolicy', policy).status.typeChecking ?? {}, {}, policy)
    }
    const components = json('get', 'datadomain', domain).status.components.map((c: any) => `${c.kind}/${c.name}`)
    for (const policy of [contracts, pii]) assert.ok(components.includes(`ValidatingAdmissionPolicy/${policy}`) && components.includes(`ValidatingAdmissionPolicyBinding/${policy}`), components.join(', '))
  })

  it('refuses an output port without a contract in the domain\'s namespace, with validate\'s message', async () => {
    // The API server loads a new policy asynchronously: retry until it is in force.
    const refused = await eventually(() => {
      const r = create(port(`nocontract-${randomBytes(2).toString('hex')}`, ns))
      return r.code === 0 ? false : r
    }, 'the output port to be refused')
    assert.match(refused.output, new RegExp(`ValidatingAdmissionPolicy '${contracts}'`))
    assert.match(refused.output, /output port has no contract, and the mesh requires one \(governance\.requireContracts\); add spec\.contract naming a DataContract/)
    // Retries before the policy was in force may have created ports; they do not matter to what follows.
  })

  it('accepts an output port with a contract, and any port outside the domain\'s namespace', () => {
    const ok = create(port('daily', ns, 'orders-daily'))
    assert.equal(ok.code, 0, ok.output)
    const elsewhere = create(port('daily', outside))
    assert.equal(elsewhere.code, 0, elsewhere.output)
  })

  it('refuses a pii field without a classification and names it, and accepts it classified', async () => {
    const refused = await eventually(() => {
      const r = create(schema('customers', ns))
      if (r.code === 0) kubectl('delete', 'dataschema', 'customers', '-n', ns)
      return r.code === 0 ? false : r
    }, 'the schema to be refused')
    assert.match(refused.output, /field "email" of customers@1\.0\.0\/raw is pii but has no classification \(governance\.requireClassificationForPii\); add classification: confidential or restricted/)
    const ok = create(schema('customers', ns, 'confidential'))
    assert.equal(ok.code, 0, ok.output)
  })

  it('follows the mesh: a rule turned off takes its policy away, and the port is accepted', async () => {
    kubectl('patch', 'datamesh', mesh, '--type=merge', '-p', JSON.stringify({spec: {governance: {requireContracts: false}}}))
    kubectl('wait', `validatingadmissionpolicy/${contracts}`, `validatingadmissionpolicybinding/${contracts}`, '--for=delete', '--timeout=60s')
    await eventually(() => create(port(`late-${randomBytes(2).toString('hex')}`, ns)).code === 0, 'a port without a contract to be accepted')
    json('get', 'validatingadmissionpolicy', pii)
  })

  it('removes the policies and the bindings with the domain', async () => {
    kubectl('delete', 'datadomain', domain, '--timeout=60s')
    kubectl('wait', `validatingadmissionpolicy/${pii}`, `validatingadmissionpolicybinding/${pii}`, '--for=delete', '--timeout=60s')
    await eventually(() => create(schema(`after-${randomBytes(2).toString('hex')}`, ns)).code === 0, 'an unclassified pii field to be accepted')
  })
})
