import {execFileSync} from 'node:child_process'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {parse} from 'yaml'

import {KwokProvider} from '../../src/core/cluster/kwok-provider.js'
import {clusterCreateResultSchema, clusterDeleteResultSchema, clusterListResultSchema} from '../../src/core/cluster/result-schema.js'
import {generateCrds} from '../../src/core/crds/generate.js'
import {resourcePath} from '../../src/core/kube/paths.js'
import type {KubeRest} from '../../src/core/kube/rest.js'
import type {CustomResourceDefinition, Deployment, KubeList, KubeObject, LooseCondition, PersistentVolumeClaim, Pod, StatefulSet} from '../../src/core/kube/types.js'
import {compile} from '../../src/core/validate/ajv.js'
import {cli} from '../helpers/cli.js'
import {requireCluster} from '../helpers/cluster.js'
import {kubeClient} from '../helpers/kube.js'

type Node = KubeObject & {status?: {conditions?: LooseCondition[]}}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

describe('cluster create --provider kwok (a real control plane)', function () {
  const name = `it-create-${randomBytes(3).toString('hex')}`
  const context = `dappmesh-${name}`
  let dir: string
  let kubeconfig: string
  let client: KubeRest | undefined
  let pids: number[] = []
  let created = false

  before(async function () {
    // The shared test cluster is not used here, but this also builds the binaries (or skips).
    await requireCluster(this)
    dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-create-'))
    kubeconfig = path.join(dir, 'kubeconfig')
  })

  after(async function () {
    this.timeout(120_000)
    client?.close()
    // Whatever a failed test left behind.
    if (created) cli(['cluster', 'delete', '--name', name, '--kubeconfig', kubeconfig], {timeout: 120_000})
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  it('creates the cluster, writes context dappmesh-<name> and installs every CRD', function () {
    this.timeout(600_000)
    const result = cli(['cluster', 'create', '--provider', 'kwok', '--name', name, '--kubeconfig', kubeconfig, '--wait', '3m', '--json'], {timeout: 600_000})
    created = true
    assert.equal(result.code, 0, result.stderr)
    const json = JSON.parse(result.stdout)
    const valid = compile(clusterCreateResultSchema)
    assert.equal(valid(json), true, JSON.stringify(valid.errors))
    assert.equal(json.provider, 'kwok')
    assert.equal(json.context, context)
    assert.equal(json.kubeconfig, kubeconfig)
    assert.match(json.server, /^https:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(json.kubernetesVersion, 'v1.36.3')
    assert.deepEqual(json.crds, generateCrds().map((crd) => crd.metadata.name))
    assert.equal(json.volumes, 64)
    assert.match(result.stderr, /starting kwok cluster/)
    const written = parse(readFileSync(kubeconfig, 'utf8'))
    assert.equal(written['current-context'], context)
  })

  it('has three Ready nodes and Established CRDs', async () => {
    assert.ok(created, 'the cluster was not created')
    client = await kubeClient(kubeconfig, context)
    const nodes = await client.get<KubeList<Node>>('/api/v1/nodes')
    assert.equal(nodes.items.length, 3)
    for (const node of nodes.items) {
      assert.ok(node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${node.metadata?.name} is not Ready`)
    }
    const crds = await client.get<KubeList<CustomResourceDefinition>>(resourcePath('apiextensions.k8s.io/v1', 'CustomResourceDefinition'))
    for (const expected of generateCrds()) {
      const crd = crds.items.find((item) => item.metadata?.name === expected.metadata.name)
      assert.ok(crd, `${expected.metadata.name} is missing`)
      assert.ok(crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'))
      assert.equal(crd.metadata?.managedFields?.[0]?.manager, 'dappmesh')
    }
    // The stored schemas are exactly the generated ones: no x-kubernetes-* keyword lost on the way
    // (CEL rules, preserve-unknown-fields for an inline contract document).
    const raw = JSON.parse(execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'crd', '-l', 'app.kubernetes.io/part-of=dappmesh', '-o', 'json'], {encoding: 'utf8'}))
    for (const expected of generateCrds()) {
      const stored = raw.items.find((item: any) => item.metadata.name === expected.metadata.name)
      assert.deepEqual(stored.spec.versions[0].schema, expected.spec.versions[0].schema, `${expected.metadata.name}: stored schema differs`)
    }
  })

  it('runs a Deployment: its pods are scheduled and Running', async function () {
    this.timeout(120_000)
    const rest = client!
    await rest.request('POST', resourcePath('apps/v1', 'Deployment', 'default'), {
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {name: 'web'},
        spec: {
          replicas: 2,
          selector: {matchLabels: {app: 'web'}},
          template: {metadata: {labels: {app: 'web'}}, spec: {containers: [{name: 'web', image: 'example.invalid/web:1'}]}},
        },
      },
    })
    const pods = await eventually('two Running pods', 90_000, async () => {
      const list = await rest.get<KubeList<Pod>>(resourcePath('v1', 'Pod', 'default'), {labelSelector: 'app=web'})
      const running = list.items.filter((pod) => pod.status?.phase === 'Running' && pod.spec?.nodeName)
      return running.length === 2 ? running : undefined
    })
    assert.ok(pods.every((pod) => pod.spec?.nodeName?.startsWith('node-')))
    const deployment = await eventually('an available Deployment', 60_000, async () => {
      const read = await rest.get<Deployment>(resourcePath('apps/v1', 'Deployment', 'default', 'web'))
      return read.status?.availableReplicas === 2 ? read : undefined
    })
    assert.equal(deployment.status?.readyReplicas, 2)
  })

  it('binds a StatefulSet\'s volume claim to one of its volumes, so the StatefulSet becomes Ready', async function () {
    this.timeout(120_000)
    const rest = client!
    await rest.request('POST', resourcePath('apps/v1', 'StatefulSet', 'default'), {
      body: {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: {name: 'db'},
        spec: {
          replicas: 1,
          serviceName: 'db',
          selector: {matchLabels: {app: 'db'}},
          template: {metadata: {labels: {app: 'db'}}, spec: {containers: [{name: 'db', image: 'example.invalid/db:1', volumeMounts: [{name: 'data', mountPath: '/data'}]}]}},
          volumeClaimTemplates: [{metadata: {name: 'data'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '5Gi'}}}}],
        },
      },
    })
    const claim = await eventually('a Bound claim', 60_000, async () => {
      const read = await rest.get<PersistentVolumeClaim>(resourcePath('v1', 'PersistentVolumeClaim', 'default', 'data-db-0')).catch(() => undefined)
      return read?.status?.phase === 'Bound' ? read : undefined
    })
    assert.equal(claim.spec?.storageClassName, 'standard', 'the default StorageClass was given to the claim')
    assert.match(claim.spec?.volumeName ?? '', /^dappmesh-local-\d{3}$/)
    await eventually('a Ready StatefulSet', 60_000, async () => {
      const read = await rest.get<StatefulSet>(resourcePath('apps/v1', 'StatefulSet', 'default', 'db'))
      return read.status?.readyReplicas === 1 ? read : undefined
    })
  })

  it('lists the cluster as running, and refuses to create it twice', async () => {
    pids = await new KwokProvider().pids(name)
    assert.equal(pids.length, 5, 'etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller')
    assert.ok(pids.every(pidAlive))
    const list = cli(['cluster', 'list', '--json'])
    assert.equal(list.code, 0, list.stderr)
    const valid = compile(clusterListResultSchema)
    assert.equal(valid(JSON.parse(list.stdout)), true, JSON.stringify(valid.errors))
    assert.deepEqual(JSON.parse(list.stdout).clusters.find((c: any) => c.name === name), {name, provider: 'kwok', status: 'running', context})
    const table = cli(['cluster', 'list'])
    assert.match(table.stdout, /^NAME +PROVIDER +STATUS +CONTEXT$/m)
    assert.match(table.stdout, new RegExp(`^${name} +kwok +running +${context}$`, 'm'))
    const again = cli(['cluster', 'create', '--provider', 'kwok', '--name', name, '--kubeconfig', kubeconfig])
    assert.equal(again.code, 1)
    assert.match(again.stderr, new RegExp(`a kwok cluster named ${name} already exists`))
  })

  it('deletes the cluster: no process is left and the context is gone', async function () {
    this.timeout(120_000)
    const result = cli(['cluster', 'delete', '--name', name, '--kubeconfig', kubeconfig, '--json'], {timeout: 120_000})
    assert.equal(result.code, 0, result.stderr)
    created = false
    const valid = compile(clusterDeleteResultSchema)
    assert.equal(valid(JSON.parse(result.stdout)), true, JSON.stringify(valid.errors))
    assert.deepEqual(JSON.parse(result.stdout), {name, provider: 'kwok', kubeconfig, context, contextRemoved: true})
    assert.ok(pids.length > 0)
    for (const pid of pids) assert.equal(pidAlive(pid), false, `process ${pid} is still running`)
    const written = parse(await readFile(kubeconfig, 'utf8'))
    assert.deepEqual(written.contexts, [])
    const list = JSON.parse(cli(['cluster', 'list', '--json']).stdout)
    assert.equal(list.clusters.some((c: any) => c.name === name), false)
    const again = cli(['cluster', 'delete', '--name', name, '--kubeconfig', kubeconfig])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /there is no kwok, kind or local cluster named/)
  })
})
