import assert from 'node:assert/strict'

import {resourcePath} from '../../src/core/kube/paths.js'
import {KubeApiError, type KubeRest} from '../../src/core/kube/rest.js'
import type {KubeList, KubeObject, LooseCondition, Namespace} from '../../src/core/kube/types.js'
import {createTestNamespace, requireCluster} from '../helpers/cluster.js'
import {kubeClient} from '../helpers/kube.js'

type Node = KubeObject & {status?: {conditions?: LooseCondition[]}}

describe('the shared test cluster (test/helpers/cluster.ts)', () => {
  let kubeconfig: string
  let client: KubeRest

  before(async function () {
    kubeconfig = await requireCluster(this)
    client = await kubeClient(kubeconfig)
  })

  after(() => client?.close())

  it('is exported as DAPPMESH_TEST_KUBECONFIG and has three Ready kwok nodes', async () => {
    assert.equal(process.env.DAPPMESH_TEST_KUBECONFIG, kubeconfig)
    const nodes = await client.get<KubeList<Node>>('/api/v1/nodes')
    assert.equal(nodes.items.length, 3)
    assert.ok(nodes.items.every((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')))
  })

  it('gives each suite a namespace of its own, and removes it', async () => {
    const a = await createTestNamespace(kubeconfig, 'suite')
    const b = await createTestNamespace(kubeconfig, 'suite')
    assert.notEqual(a.name, b.name)
    assert.match(a.name, /^suite-[0-9a-f]{8}$/)
    const read = await client.get<Namespace>(resourcePath('v1', 'Namespace', undefined, a.name))
    assert.equal(read.metadata?.labels?.['dappmesh.io/test'], 'true')
    await a.remove()
    await b.remove()
    // Namespace deletion is asynchronous: it is Terminating or already gone.
    const after = await client.get<Namespace>(resourcePath('v1', 'Namespace', undefined, a.name)).catch((error: unknown) => (error instanceof KubeApiError && error.status === 404 ? undefined : Promise.reject(error)))
    assert.ok(after === undefined || after.status?.phase === 'Terminating')
    await a.remove() // a second removal is not an error
  })
})
