import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {clusterDisabled, runScript} from '../helpers/cluster.js'
import {eventually} from '../helpers/operator-child.js'

/**
 * A local cluster (cluster/local-up.sh) runs one real node; simulated kwok nodes added beside it
 * with --nodes must not receive pods, which would look Running there and run nothing. local-up.sh
 * asks up.sh for tainted fake nodes (DAPPMESH_KWOK_TAINT_NODES=1); the real node needs root, so
 * this starts a kwok cluster of its own through up.sh with that setting.
 */
describe('cluster/up.sh with DAPPMESH_KWOK_TAINT_NODES=1 (the fake nodes of a local cluster)', function () {
  this.timeout(300_000)
  // Named like the shared test cluster, so a run killed before its teardown is cleaned up by the next.
  const name = `dappmesh-test-${process.pid}-taint`
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-taint-'))
  const kubeconfig = path.join(dir, 'kubeconfig')
  let started = false
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']}).trim()
  const pod = (podName: string, tolerations: unknown[] = []) =>
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'create', '-f', '-'], {
      input: JSON.stringify({apiVersion: 'v1', kind: 'Pod', metadata: {name: podName, namespace: 'default'}, spec: {containers: [{name: 'main', image: 'busybox'}], tolerations}}),
      stdio: ['pipe', 'ignore', 'pipe'],
    })

  before(async function () {
    if (clusterDisabled()) this.skip()
    started = true
    await runScript('up.sh', [name, kubeconfig], {...process.env, DAPPMESH_KWOK_NODES: '2', DAPPMESH_KWOK_TAINT_NODES: '1'})
  })

  after(async () => {
    if (started) await runScript('down.sh', [name]).catch(() => {})
    rmSync(dir, {recursive: true, force: true})
  })

  it('taints every fake node NoSchedule', () => {
    const nodes = JSON.parse(kubectl('get', 'nodes', '-o', 'json')).items
    assert.equal(nodes.length, 2)
    // Only ours is asserted: the node lifecycle controller's own not-ready taint may still be there
    // on a busy machine, a moment after the node reports Ready.
    for (const node of nodes) {
      const fake = (node.spec.taints ?? []).filter((t: {key: string}) => t.key === 'kwok.x-k8s.io/node')
      assert.deepEqual(fake, [{key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule'}], `${node.metadata.name}: ${JSON.stringify(node.spec.taints)}`)
    }
  })

  it('leaves a pod that tolerates nothing unscheduled, and schedules one that tolerates the taint', async () => {
    pod('plain')
    pod('tolerant', [{key: 'kwok.x-k8s.io/node', operator: 'Equal', value: 'fake', effect: 'NoSchedule'}])
    await eventually(() => kubectl('get', 'pod', 'tolerant', '-n', 'default', '-o', 'jsonpath={.spec.nodeName}') !== '', 'the tolerant pod scheduled')
    const condition = await eventually(() => {
      const conditions = JSON.parse(kubectl('get', 'pod', 'plain', '-n', 'default', '-o', 'json')).status?.conditions ?? []
      return conditions.find((c: {type: string}) => c.type === 'PodScheduled')
    }, 'the scheduler to look at the plain pod')
    assert.equal(condition.status, 'False')
    assert.equal(condition.reason, 'Unschedulable')
    assert.match(condition.message, /untolerated taint/)
    assert.equal(kubectl('get', 'pod', 'plain', '-n', 'default', '-o', 'jsonpath={.spec.nodeName}'), '')
  })
})
