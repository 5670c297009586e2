import assert from 'node:assert/strict'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'

import {BIN, cli} from '../helpers/cli.js'
import {requireCluster} from '../helpers/cluster.js'
import {type ProductCopy, orderProduct} from '../helpers/product.js'

interface Operator {
  child: ChildProcess
  log: string
}

describe('operator run --leader-elect (real control plane)', function () {
  let kubeconfig: string
  let p: ProductCopy
  const operators: Operator[] = []
  const leaseNamespace = `lease-${randomBytes(3).toString('hex')}`
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})

  function start(): Operator {
    const child = spawn(process.execPath, [BIN, 'operator', 'run', '--only', 'product', '-n', p.namespace, '--leader-elect', '--leader-election-namespace', leaseNamespace, '--kubeconfig', kubeconfig], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {...process.env, NO_COLOR: '1'},
    })
    const operator: Operator = {child, log: ''}
    child.stderr!.on('data', (chunk: Buffer) => (operator.log += chunk.toString('utf8')))
    operators.push(operator)
    return operator
  }

  async function until(check: () => boolean, what: string, ms = 45_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms:\n${operators.map((o, i) => `operator ${i}:\n${o.log}`).join('\n')}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async function stop(operator: Operator, signal: NodeJS.Signals): Promise<number | null> {
    if (operator.child.exitCode !== null || operator.child.signalCode !== null) return operator.child.exitCode
    const exited = new Promise<number | null>((resolve) => operator.child.once('exit', (code) => resolve(code)))
    operator.child.kill(signal)
    return exited
  }

  before(async function () {
    kubeconfig = await requireCluster(this)
    p = orderProduct('lead')
  })

  after(async () => {
    for (const operator of operators) await stop(operator, 'SIGTERM')
    try {
      kubectl('patch', 'dataproduct', 'orders', '-n', p.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
    } catch {
      // not there
    }
    try {
      kubectl('delete', 'namespace', p.namespace, leaseNamespace, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'datadomain', p.domain, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
    p.remove()
  })

  it('lets one of two operators reconcile while the other waits and writes nothing', async () => {
    const first = start()
    await until(() => /became the leader/.test(first.log), 'the first operator leading')
    const second = start()
    await until(() => /waiting for leadership: the lease \S+ is held by/.test(second.log), 'the second operator waiting')
    const r = cli(['apply', p.dir, '--kubeconfig', kubeconfig], {timeout: 120_000})
    assert.equal(r.code, 0, r.stderr)
    kubectl('wait', 'deployment/orders--orders-api', '-n', p.namespace, '--for=create', '--timeout=60s')
    await until(() => /applied Deployment\/orders--orders-api\b/.test(first.log), 'the leader logging its apply')
    assert.doesNotMatch(second.log, /applied|created|caches synced/)
    const lease = JSON.parse(kubectl('get', 'lease', 'dappmesh-operator', '-n', leaseNamespace, '-o', 'json'))
    assert.match(first.log, new RegExp(`became the leader \\(${lease.spec.holderIdentity}\\)`))
  })

  it('hands over at once when the leader stops gracefully, and the new leader reconciles', async () => {
    const [first, second] = operators
    assert.equal(await stop(first, 'SIGTERM'), 0, first.log)
    await until(() => /became the leader/.test(second.log), 'the second operator taking over', 15_000)
    kubectl('delete', 'deployment', 'orders--orders-api', '-n', p.namespace, '--wait=true')
    kubectl('wait', 'deployment/orders--orders-api', '-n', p.namespace, '--for=create', '--timeout=60s')
    await until(() => /applied Deployment\/orders--orders-api\b/.test(second.log), 'the new leader recreating the Deployment')
    const lease = JSON.parse(kubectl('get', 'lease', 'dappmesh-operator', '-n', leaseNamespace, '-o', 'json'))
    assert.equal(lease.spec.leaseTransitions, 1)
  })

  it('takes over once the lease expires when the leader is killed (SIGKILL: no release), and the new leader converges', async () => {
    const leader = operators[1]
    const third = start()
    await until(() => /waiting for leadership: the lease \S+ is held by/.test(third.log), 'the third operator waiting')
    const oldUid = kubectl('get', 'deployment', 'orders--orders-events', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}')
    const holder = JSON.parse(kubectl('get', 'lease', 'dappmesh-operator', '-n', leaseNamespace, '-o', 'json')).spec.holderIdentity
    assert.equal(await stop(leader, 'SIGKILL'), null, 'killed, not exited')
    // Nobody writes while the dead leader's lease runs out: the deletion waits for the next leader.
    kubectl('delete', 'deployment', 'orders--orders-events', '-n', p.namespace, '--wait=true')
    await until(() => /became the leader/.test(third.log), 'the third operator taking over after the lease expired', 60_000)
    kubectl('wait', 'deployment/orders--orders-events', '-n', p.namespace, '--for=create', '--timeout=60s')
    assert.notEqual(kubectl('get', 'deployment', 'orders--orders-events', '-n', p.namespace, '-o', 'jsonpath={.metadata.uid}'), oldUid)
    await until(() => /applied Deployment\/orders--orders-events\b/.test(third.log), 'the new leader recreating the Deployment')
    // (Ready as a whole it cannot be here: kwok has no volumes for its StatefulSets' claims.)
    kubectl('wait', 'deployment/orders--orders-events', '-n', p.namespace, '--for=condition=Available', '--timeout=60s')
    const lease = JSON.parse(kubectl('get', 'lease', 'dappmesh-operator', '-n', leaseNamespace, '-o', 'json'))
    assert.notEqual(lease.spec.holderIdentity, holder)
    assert.equal(lease.spec.leaseTransitions, 2)
  })
})
