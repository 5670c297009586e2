import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {controlPlaneOf} from '../helpers/apiserver.js'
import {clusterDisabled, requireCluster, runScript} from '../helpers/cluster.js'
import {LIGHT_CHILD_KINDS, kubectlApply, lightChildren, lightDomain, lightProduct, persistentVolumes} from '../helpers/light-product.js'
import {eventually} from '../helpers/operator-child.js'
import {type OperatorProcess, spawnOperator} from '../helpers/operator-process.js'

/**
 * Faults on a real control plane of the suite's own (a second kwok cluster, a few seconds to
 * start): its API server is stopped and started again (etcd and the rest of the control plane
 * keep running), which the shared cluster of the other suites must not suffer.
 */
describe('operator run: faults (real control plane)', function () {
  const id = randomBytes(3).toString('hex')
  // The test cluster's prefix and our PID: a run killed before its teardown gets it removed by the next one.
  const name = `dappmesh-test-${process.pid}-faults-${id}`
  const dir = mkdtempSync(path.join(tmpdir(), 'dappmesh-faults-'))
  const kubeconfig = path.join(dir, 'kubeconfig')
  const namespaces = [`flt-a-${id}`, `flt-b-${id}`]
  const domain = `flt-${id}`
  let up = false
  const operators: OperatorProcess[] = []
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const operator = (...args: string[]) => {
    const o = spawnOperator(['--kubeconfig', kubeconfig, '--only', 'product', '-n', namespaces.join(','), '--health-port', '0', ...args])
    operators.push(o)
    return o
  }
  const allProducts = (): any[] => namespaces.flatMap((ns) => json('get', 'dataproducts', '-n', ns).items)
  const isReady = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === p.metadata.generation)
  const childrenOf = (ns: string): any[] => json('get', LIGHT_CHILD_KINDS, '-n', ns, '-l', 'dappmesh.io/product').items

  /**
   * Every product's children are exactly the expected ones (none twice, none missing), and every
   * child in the namespaces is owned (controller reference) by a DataProduct that exists.
   */
  function assertConverged(expected: Map<string, string[]>): void {
    const live = allProducts()
    const uids = new Map(live.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p.metadata.uid]))
    for (const ns of namespaces) {
      const byProduct = new Map<string, string[]>()
      for (const child of childrenOf(ns)) {
        // A storage's credentials have no owner (they last as long as its volume): their label says whose.
        const credentials = child.kind === 'Secret' && !child.metadata.ownerReferences
        const product = child.metadata.labels['dappmesh.io/product']
        const owner = credentials ? {name: product, uid: uids.get(`${ns}/${product}`)} : (child.metadata.ownerReferences ?? []).find((r: any) => r.controller && r.kind === 'DataProduct')
        assert.ok(owner, `${ns} ${child.kind}/${child.metadata.name} has no owning DataProduct`)
        assert.equal(owner.uid, uids.get(`${ns}/${owner.name}`), `${ns} ${child.kind}/${child.metadata.name} is owned by a DataProduct that does not exist (orphan)`)
        byProduct.set(owner.name, [...(byProduct.get(owner.name) ?? []), `${child.kind}/${child.metadata.name}`])
      }
      for (const [key, children] of expected) {
        const [pns, pname] = key.split('/')
        if (pns !== ns) continue
        assert.deepEqual((byProduct.get(pname) ?? []).sort(), children, `children of ${key}`)
      }
    }
  }

  before(async function () {
    if (clusterDisabled()) this.skip()
    // The shared cluster is started first (it also builds the binaries, once per machine).
    await requireCluster(this)
    this.timeout(180_000)
    await runScript('up.sh', [name, kubeconfig])
    up = true
    for (const ns of namespaces) kubectl('create', 'namespace', ns)
  })

  after(async () => {
    for (const o of operators) await o.kill('SIGKILL')
    if (up) await runScript('down.sh', [name]).catch(() => {})
    rmSync(dir, {recursive: true, force: true})
  })

  it('converges after a SIGKILL in the middle of reconciling several products: every child once, none orphaned, all Ready', async function () {
    this.timeout(300_000)
    const first = operator()
    await first.waitFor(/caches synced/)
    // Four products in each namespace, each with a storage (StatefulSet, Secret made once, …).
    const count = 4
    kubectlApply(kubeconfig, persistentVolumes(`flt-${id}`, namespaces.length * count))
    const objects: any[] = [lightDomain(domain)]
    const expected = new Map<string, string[]>()
    for (const ns of namespaces) {
      for (let i = 0; i < count; i++) {
        const product = `p${i}`
        objects.push(...lightProduct(ns, product, {domain, storage: true}))
        expected.set(`${ns}/${product}`, lightChildren(product, {storage: true}))
      }
    }
    kubectlApply(kubeconfig, objects)
    // Killed as soon as it has written the children of a first product (one log line per reconcile): the rest of the work is unfinished.
    await first.waitFor(/DataProduct flt-\S+: (applied|created) /)
    assert.equal(await first.kill('SIGKILL'), 'SIGKILL')
    const readyAtKill = allProducts().filter(isReady).length
    assert.ok(readyAtKill < expected.size, `the kill came too late to test anything: ${readyAtKill} of ${expected.size} products were Ready`)

    const second = operator()
    await second.waitFor(/caches synced/)
    await eventually(() => allProducts().length === expected.size && allProducts().every(isReady), 'every product Ready after the restart', 240_000)
    assertConverged(expected)
    // Each Secret made once (a postgresql storage's root credentials and its three database users'):
    // a restart must not have made a second one nor replaced it.
    const secrets = namespaces.flatMap((ns) => json('get', 'secrets', '-n', ns, '-l', 'dappmesh.io/product').items)
    assert.equal(secrets.length, expected.size * 4)
    assert.ok(secrets.every((s) => Buffer.from(s.data.password, 'base64').length >= 24))
  })

  it('keeps running while the API server is stopped and started again, and reconciles a change made after the restart', async function () {
    this.timeout(300_000)
    const running = operators.at(-1)!
    assert.ok(running.alive())
    const ns = namespaces[0]
    const deployment = 'p0--p0-api'
    const uidBefore = kubectl('get', 'deployment', deployment, '-n', ns, '-o', 'jsonpath={.metadata.uid}')
    const logged = running.log().length

    const controlPlane = controlPlaneOf(name)
    await controlPlane.stopApiServer()
    const stopped = Date.now()
    assert.throws(() => kubectl('get', '--raw', '/readyz', '--request-timeout=2s'))
    // Its watches fail and are retried with a growing backoff; it does not exit.
    await eventually(() => /watch of \S+ failed/.test(running.log().slice(logged)), 'the operator noticing the API server is gone', 60_000)
    await new Promise((resolve) => setTimeout(resolve, 5000))
    assert.ok(running.alive(), running.log())

    controlPlane.startApiServer()
    await eventually(() => kubectl('get', '--raw', '/readyz') === 'ok', 'the API server ready again', 120_000)
    const restarted = Date.now()
    // The controller manager and scheduler may have lost their leases and exited: the kubelet's job, done here.
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const revived = controlPlane.reviveExited()
    assert.ok(running.alive(), running.log())

    // A change after the restart: a deleted child is made again, by the same operator process.
    kubectl('delete', 'deployment', deployment, '-n', ns, '--wait=true')
    const changed = Date.now()
    await eventually(() => {
      const uid = kubectl('get', 'deployment', deployment, '-n', ns, '-o', 'jsonpath={.metadata.uid}', '--ignore-not-found')
      return uid !== '' && uid !== uidBefore
    }, 'the deleted Deployment recreated after the restart', 120_000)
    const recreated = Date.now()
    // Pods run again once the controller manager (revived if it exited late) makes them.
    await eventually(() => {
      revived.push(...controlPlane.reviveExited())
      return allProducts().every(isReady)
    }, 'every product Ready again', 120_000)
    assert.equal(kubectl('get', 'deployment', deployment, '-n', ns, '-o', 'jsonpath={.status.availableReplicas}'), '1')
    assert.ok(running.alive())
    process.stderr.write(`      (API server down ${((restarted - stopped) / 1000).toFixed(1)} s; restarted besides: ${revived.join(', ') || 'nothing'}; a deletion after the restart undone in ${((recreated - changed) / 1000).toFixed(1)} s)\n`)
  })
})
