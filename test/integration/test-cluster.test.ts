import assert from 'node:assert/strict'

import * as k8s from '@kubernetes/client-node'

import {createTestNamespace, requireCluster} from '../helpers/cluster.js'

describe('the shared test cluster (test/helpers/cluster.ts)', () => {
  let kubeconfig: string
  let core: k8s.CoreV1Api

  before(async function () {
    kubeconfig = await requireCluster(this)
    const kc = new k8s.KubeConfig()
    kc.loadFromFile(kubeconfig)
    core = kc.makeApiClient(k8s.CoreV1Api)
  })

  it('is exported as DAPPMESH_TEST_KUBECONFIG and has three Ready kwok nodes', async () => {
    assert.equal(process.env.DAPPMESH_TEST_KUBECONFIG, kubeconfig)
    const nodes = await core.listNode()
    assert.equal(nodes.items.length, 3)
    assert.ok(nodes.items.every((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')))
  })

  it('gives each suite a namespace of its own, and removes it', async () => {
    const a = await createTestNamespace(kubeconfig, 'suite')
    const b = await createTestNamespace(kubeconfig, 'suite')
    assert.notEqual(a.name, b.name)
    assert.match(a.name, /^suite-[0-9a-f]{8}$/)
    const read = await core.readNamespace({name: a.name})
    assert.equal(read.metadata?.labels?.['dappmesh.io/test'], 'true')
    await a.remove()
    await b.remove()
    // Namespace deletion is asynchronous: it is Terminating or already gone.
    const after = await core.readNamespace({name: a.name}).catch((error: any) => (error.code === 404 ? undefined : Promise.reject(error)))
    assert.ok(after === undefined || after.status?.phase === 'Terminating')
    await a.remove() // a second removal is not an error
  })
})
