import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {runtimeClusterBindingName} from '../../src/core/reconcile/product/runtime.js'
import {cliAsync} from '../helpers/cli.js'
import {requireCluster} from '../helpers/cluster.js'
import {kubectlApply, lightDomain, lightProduct} from '../helpers/light-product.js'
import {eventually} from '../helpers/operator-child.js'
import {type OperatorProcess, spawnOperator} from '../helpers/operator-process.js'
import type {HttpProxy} from '../helpers/proxies.js'
import {proxiedServiceAccount} from '../helpers/proxy-kubeconfig.js'

/** The operator's watches of ClusterRoleBindings (its list passes: the cache is filled once, then lags). */
const BINDING_WATCHES = /\/clusterrolebindings\?.*\bwatch=true/
/** …and of StatefulSets. */
const STATEFULSET_WATCHES = /\/statefulsets\?.*\bwatch=true/

/**
 * Two races between the operator and the deletion of a product, each lined up on purpose: the
 * operator talks to the real API server through an HTTP proxy of the test's, which holds back one
 * watch (so a cache lags while direct requests pass) or lets a write wait until the test releases
 * it (so a reconcile is still in flight at the moment that matters).
 */
describe('data safety: races with a product\'s deletion (real control plane)', function () {
  this.timeout(240_000)
  let kubeconfig: string
  let proxy: HttpProxy | undefined
  let removeBinding: (() => void) | undefined
  let operator: OperatorProcess | undefined
  const id = randomBytes(3).toString('hex')
  const ns = `race-${id}`
  const domain = `race-${id}`
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-races-'))
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  const find = (kind: string, name: string, namespace?: string) => {
    const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'get', kind, name, ...(namespace ? ['-n', namespace] : []), '-o', 'json', '--ignore-not-found'], {encoding: 'utf8'})
    return r.stdout.trim() ? JSON.parse(r.stdout) : undefined
  }
  const names = (kind: string, selector: string): string[] => JSON.parse(kubectl('get', kind, '-n', ns, '-l', selector, '-o', 'json')).items.map((o: any) => `${o.kind}/${o.metadata.name}`).sort()

  /**
   * A new operator (the previous one killed) whose watches matching `lagging` are held at the proxy:
   * their caches are filled by the first list and then see nothing more.
   */
  async function startOperator(lagging?: RegExp): Promise<void> {
    await operator?.kill('SIGKILL')
    proxy!.hold(lagging)
    // A held watch is given up after 3 s of silence and started again (held again until the test lets it through).
    operator = spawnOperator(['--only', 'product', '-n', ns, '--kubeconfig', path.join(dir, 'kubeconfig'), '--health-port', '0'], {DAPPMESH_WATCH_IDLE_TIMEOUT: '3', DAPPMESH_REQUEST_TIMEOUT: '120'})
    await operator.waitFor(/caches synced/)
    // Once the operator has installed the CRDs (the first time; then unchanged).
    kubectlApply(kubeconfig, [lightDomain(domain)])
  }

  before(async function () {
    kubeconfig = await requireCluster(this)
    // The proxy forwards bearer tokens: the operator runs as a cluster-admin ServiceAccount of the namespace (made here).
    const proxied = await proxiedServiceAccount(kubeconfig, ns, path.join(dir, 'kubeconfig'))
    proxy = proxied.proxy
    removeBinding = proxied.remove
  })

  after(async () => {
    await operator?.kill('SIGKILL')
    await proxy?.close()
    for (const product of ['lag', 'vol', 'slow']) {
      try {
        kubectl('patch', 'dataproduct', product, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
      } catch {
        // gone already
      }
    }
    try {
      removeBinding?.()
      kubectl('delete', 'clusterrolebinding', ...['lag', 'vol', 'slow'].map((product) => runtimeClusterBindingName(ns, product)), '--ignore-not-found')
      kubectl('delete', 'namespace', ns, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'datadomain', domain, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
    rmSync(dir, {recursive: true, force: true})
  })

  it('deletes a ClusterRoleBinding its cache has not seen before releasing the finalizer: nothing cluster-scoped is orphaned', async () => {
    await startOperator(BINDING_WATCHES)
    const binding = runtimeClusterBindingName(ns, 'lag')
    kubectlApply(kubeconfig, lightProduct(ns, 'lag', {domain}))
    // The runtime's ClusterRoleBinding: only labels tie it to the product (no owner reference can
    // name a namespaced owner), so the garbage collector never removes it.
    await eventually(() => find('clusterrolebinding', binding), 'the runtime\'s ClusterRoleBinding made')
    await eventually(() => find('statefulset', 'lag-runtime', ns), 'the runtime\'s StatefulSet made')
    assert.ok(proxy!.held.some((r) => BINDING_WATCHES.test(r.path)), 'the operator\'s ClusterRoleBinding watch was held: its cache never saw the binding')

    kubectl('delete', 'dataproduct', 'lag', '-n', ns, '--wait=false')
    // Either the binding goes first (the finalizer asked the API server), or the product goes without it.
    await eventually(() => !find('clusterrolebinding', binding) || !find('dataproduct', 'lag', ns), 'the binding or the product to go')
    assert.equal(find('clusterrolebinding', binding)?.metadata.uid, undefined, `the finalizer released the product and left ${binding} behind (orphaned: nothing deletes it)`)

    // Its cache catches up: the binding's DELETED event brings the product back, and the finalizer goes.
    proxy!.hold(undefined)
    await eventually(() => !find('dataproduct', 'lag', ns), 'the product gone once the cache caught up')
    assert.match(operator!.log(), new RegExp(`deleted ClusterRoleBinding /${binding} \\(not cached yet\\): its product is being deleted`))
    assert.equal(find('clusterrolebinding', binding)?.metadata.uid, undefined)
  })

  it('records the volume claims of a StatefulSet its cache has not seen before releasing the finalizer: the product made again takes up its own data', async () => {
    await startOperator(STATEFULSET_WATCHES)
    const claim = 'data-vol--vol-db-0'
    kubectlApply(kubeconfig, lightProduct(ns, 'vol', {domain, storage: true}))
    // Made by the StatefulSet's controller once the operator made the storage's StatefulSet.
    const made = await eventually(() => find('pvc', claim, ns), 'the storage\'s volume claim')
    assert.ok(proxy!.held.some((r) => STATEFULSET_WATCHES.test(r.path)), 'the operator\'s StatefulSet watch was held: its cache never saw the StatefulSet')

    kubectl('delete', 'dataproduct', 'vol', '-n', ns, '--wait=false')
    // The garbage collector would remove the StatefulSet (its owner gone) without the claim being recorded as kept.
    await eventually(() => !find('statefulset', 'vol--vol-db', ns) || !find('dataproduct', 'vol', ns), 'the StatefulSet or the product to go')
    proxy!.hold(undefined)
    await eventually(() => !find('dataproduct', 'vol', ns) && !find('statefulset', 'vol--vol-db', ns), 'the product and its StatefulSet gone')
    const record = find('configmap', `credentials.${ns}`, 'dappmesh-system')
    assert.equal(record?.data?.[claim], `uid:${made.metadata.uid}`, 'the kept claim is in the operator\'s record')

    // Made again: its kept claim is its own, not one planted by someone else.
    kubectlApply(kubeconfig, lightProduct(ns, 'vol', {domain, storage: true}))
    const outcome = await eventually(() => {
      const degraded = find('dataproduct', 'vol', ns)?.status?.conditions?.find((c: any) => c.type === 'Degraded' && c.status === 'True' && c.reason === 'NameTaken')
      return degraded?.message ?? (find('statefulset', 'vol--vol-db', ns) && 'made')
    }, 'the product made again to take up its claim, or refuse it')
    assert.equal(outcome, 'made')
    assert.equal(find('pvc', claim, ns)?.metadata.uid, made.metadata.uid)
  })

  it('purges with --purge-data a credentials Secret that a reconcile in flight made after the data was first listed', async () => {
    await startOperator()
    // The reconcile's first Secret write waits at the proxy: the reconcile is in flight when the deletion starts.
    const gate = proxy!.gate('POST', new RegExp(`^/api/v1/namespaces/${ns}/secrets$`))
    kubectlApply(kubeconfig, lightProduct(ns, 'slow', {domain, storage: true}))
    await eventually(() => gate.waiting.length > 0, 'the operator making the storage\'s first Secret', 90_000)
    assert.deepEqual(names('secrets', 'dappmesh.io/product=slow'), [], 'no Secret yet when delete lists the data')

    const deleting = cliAsync(['delete', 'slow', '-n', ns, '--kubeconfig', kubeconfig, '--purge-data', '--wait', '--json'], {timeout: 180_000})
    // delete lists the data, then deletes the product: once it is being deleted, the Secret write goes through.
    await eventually(() => find('dataproduct', 'slow', ns)?.metadata.deletionTimestamp, 'delete to start deleting the product')
    gate.release()
    const r = await deleting
    assert.equal(r.code, 0, r.stderr)

    assert.deepEqual(names('secrets', 'dappmesh.io/product=slow'), [], 'a Secret made after the first list of the data outlived --purge-data')
    const purged = JSON.parse(r.stdout).purged.map((o: any) => `${o.kind}/${o.name}`)
    assert.deepEqual(purged.filter((o: string) => o.startsWith('Secret/')), ['admin', 'credentials', 'read', 'write'].map((s) => `Secret/slow--slow-db-${s}`))
    // The storage's volume claim (made by its StatefulSet after the first list, too) is going.
    const claims = JSON.parse(kubectl('get', 'pvc', '-n', ns, '-l', 'dappmesh.io/product=slow', '-o', 'json')).items
    assert.deepEqual(claims.filter((c: any) => !c.metadata.deletionTimestamp).map((c: any) => c.metadata.name), [])
  })
})
