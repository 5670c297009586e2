/**
 * `dappmesh cluster create --provider local` on this machine: a real node (containerd, runc,
 * kubelet, kube-proxy, CoreDNS) whose pods really run, then a scaffolded product on it from
 * `init` to rows served by its pods, and a `cluster delete` that leaves nothing behind.
 * Needs root (skips, saying so, when not root), runc, the CNI plugins, buildah and the product
 * images (test/images/build.sh). One cluster for the whole file: a machine runs one real node.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'


import {localNodeDir, localNodeName, localWorkdir} from '../../src/core/cluster/local-provider.js'
import {cli} from '../helpers/cli.js'
import {freePort} from '../helpers/images.js'
import {BUSYBOX_IMAGE, type HostState, buildProductImages, hostState, isRoot, kubectl, pushBusybox} from '../helpers/node.js'

const NAME = `node-${randomBytes(2).toString('hex')}`
const LONG = {timeout: 15 * 60_000}

describe('cluster create --provider local (a real node on this machine)', function () {
  this.timeout(0)
  let dir: string
  let kubeconfig: string
  let baseline: HostState
  let created = false

  const dm = (args: string[], timeout = 10 * 60_000) => cli([...args, '--kubeconfig', kubeconfig], {timeout})
  const k = (args: string[], input?: string) => kubectl(kubeconfig, args, input)

  before(function () {
    if (!isRoot()) this.skip() // a real node needs root: network interfaces, mounts, cgroups
    dir = mkdtempSync(path.join(tmpdir(), 'dappmesh-node-test-'))
    kubeconfig = path.join(dir, 'kubeconfig')
    baseline = hostState(localWorkdir())
    buildProductImages()
  })

  after(function () {
    if (created) cli(['cluster', 'delete', '--name', NAME, '--kubeconfig', kubeconfig], {timeout: 5 * 60_000})
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('creates a cluster whose one node is real, Ready and runs containerd', function () {
    const r = cli(['cluster', 'create', '--provider', 'local', '--name', NAME, '--kubeconfig', kubeconfig, '--json'], LONG)
    created = r.code === 0 || existsSync(localNodeDir(NAME))
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    assert.deepEqual([result.provider, result.name, result.volumes], ['local', NAME, 32])
    const nodes = JSON.parse(k(['get', 'nodes', '-o', 'json'])).items
    assert.deepEqual(nodes.map((n: any) => n.metadata.name), [localNodeName(NAME)])
    assert.match(nodes[0].status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/2\./)
    assert.equal(nodes[0].status.conditions.find((c: any) => c.type === 'Ready').status, 'True')
    pushBusybox()
  })

  it('refuses a second local cluster on the same machine (exit 1, naming the first)', function () {
    if (!created) this.skip()
    const r = cli(['cluster', 'create', '--provider', 'local', '--name', `${NAME}-2`, '--kubeconfig', path.join(dir, 'other')], LONG)
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(NAME))
  })

  it('runs a pod for real: what its process prints is in its log', function () {
    k(['run', 'echo', '--image', BUSYBOX_IMAGE, '--restart', 'Never', '--command', '--', 'sh', '-c', 'echo "user $(id -u) in $(hostname)"'])
    k(['wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/echo', '--timeout=120s'])
    // kwok's simulated pods never print: this line comes from the container's PID 1.
    assert.equal(k(['logs', 'echo']).trim(), 'user 0 in echo')
  })

  it('writes a claim\'s data into a directory under the node\'s directory', function () {
    k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: 'data'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}},
        {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'writer'}, spec: {restartPolicy: 'Never', volumes: [{name: 'd', persistentVolumeClaim: {claimName: 'data'}}],
          containers: [{name: 'c', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo written-by-a-pod > /d/proof'], volumeMounts: [{name: 'd', mountPath: '/d'}]}]}},
      ]}))
    k(['wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/writer', '--timeout=120s'])
    const volume = k(['get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}'])
    const hostPath = k(['get', 'pv', volume, '-o', 'jsonpath={.spec.hostPath.path}'])
    assert.equal(hostPath.startsWith(path.join(localNodeDir(NAME), 'volumes')), true)
    assert.equal(readFileSync(path.join(hostPath, 'proof'), 'utf8'), 'written-by-a-pod\n')
  })

  describe('a scaffolded product (operational Postgres, analytics DuckDB)', function () {
    let project: string
    let forward: ChildProcess | undefined
    const token = (account: string) => k(['-n', 'sales', 'create', 'token', account]).trim()

    /** GET of the output port through `kubectl port-forward` to its Service, as `bearer` (or with no token). */
    async function getThroughPortForward(bearer: string | undefined): Promise<{status: number; body: string}> {
      const port = await freePort()
      forward = spawn('kubectl', ['--kubeconfig', kubeconfig, '-n', 'sales', 'port-forward', 'svc/orders--orders-table', `${port}:8080`], {stdio: 'ignore'})
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            const response = await fetch(`http://127.0.0.1:${port}/v1/ports/orders-table?format=ndjson`, {headers: bearer ? {Authorization: `Bearer ${bearer}`} : {}})
            return {status: response.status, body: await response.text()}
          } catch (error) {
            if (attempt > 50 || !(error instanceof TypeError)) throw error // TypeError: not listening yet
            await new Promise((resolve) => setTimeout(resolve, 200))
          }
        }
      } finally {
        forward.kill()
        forward = undefined
      }
    }

    /** Rows of the output port, read with a token of the ServiceAccount the readers' DataRole grants. */
    async function rowsThroughPortForward(): Promise<any[]> {
      const {status, body} = await getThroughPortForward(token('orders-reader'))
      assert.equal(status, 200, body)
      return body.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line))
    }

    before(function () {
      if (!created) this.skip()
      project = path.join(dir, 'orders')
      const init = cli(['init', project, '--name', 'orders', '--domain', 'sales', '--mesh', 'acme', '--owner', 'sales-team@example.com',
        '--entity', 'orders', '--storage', 'operational=postgresql', '--storage', 'analytics=duckdb', '--yes'])
      assert.equal(init.code, 0, init.stderr)
      // A consumer of our own: the readers' DataRole also names a ServiceAccount a test can get a token for.
      const roles = path.join(project, 'mesh/roles.yaml')
      writeFileSync(roles, readFileSync(roles, 'utf8').replace('      name: orders-readers\n', '      name: orders-readers\n    - kind: ServiceAccount\n      name: orders-reader\n      namespace: sales\n'))
      // The flow's states in the operational Postgres, so the runtime publishes there (as its write user).
      const flow = path.join(project, 'model/orders/flow.yaml')
      writeFileSync(flow, readFileSync(flow, 'utf8').replace('  schema: orders\n', '  schema: orders\n  storage: operational\n'))
      const output = path.join(project, 'services/orders/output.yaml')
      writeFileSync(output, readFileSync(output, 'utf8').replace('  storage: analytics\n', '  storage: operational\n'))
    })

    after(() => forward?.kill())

    it('installs the operator, whose pod runs on the node', function () {
      const r = dm(['operator', 'install', '--wait', '--timeout', '5m'])
      assert.equal(r.code, 0, r.stderr)
      const pods = JSON.parse(k(['-n', 'dappmesh-system', 'get', 'pods', '-o', 'json'])).items
      assert.equal(pods.length, 1)
      assert.ok(pods[0].status.containerStatuses[0].state.running, JSON.stringify(pods[0].status.containerStatuses[0].state))
    })

    it('applies it with --wait until Ready, with its Postgres and runtime pods really running', function () {
      const r = dm(['apply', project, '--wait', '--timeout', '5m'])
      assert.equal(r.code, 0, r.stderr)
      const pods = JSON.parse(k(['-n', 'sales', 'get', 'pods', '-o', 'json'])).items
      const running = pods.filter((p: any) => p.status.containerStatuses?.every((c: any) => c.ready && c.state.running)).map((p: any) => p.metadata.name)
      for (const item of ['orders--operational-0', 'orders-runtime-0']) assert.ok(running.includes(item), item)
    })

    it('takes rows pushed to its input port, runs its workflow and serves them through kubectl port-forward', async function () {
      k(['-n', 'sales', 'create', 'serviceaccount', 'orders-writers'])
      k(['-n', 'sales', 'create', 'serviceaccount', 'orders-reader'])
      const port = await freePort()
      forward = spawn('kubectl', ['--kubeconfig', kubeconfig, '-n', 'sales', 'port-forward', 'svc/orders-runtime', `${port}:8080`], {stdio: 'ignore'})
      try {
        let pushed: Response | undefined
        for (let attempt = 0; !pushed; attempt++) {
          pushed = await fetch(`http://127.0.0.1:${port}/v1/inputs/orders-events`, {method: 'POST', headers: {Authorization: `Bearer ${token('orders-writers')}`, 'Content-Type': 'text/csv'}, body: readFileSync(path.join(project, 'data/orders-events.csv'))})
            .catch(async (error) => {
              if (attempt > 50) throw error
              await new Promise((resolve) => setTimeout(resolve, 200))
              return undefined
            })
        }
        assert.equal(pushed.status, 200, await pushed.clone().text())
        assert.ok((await pushed.json()).accepted > 0)
      } finally {
        forward.kill()
        forward = undefined
      }
      k(['-n', 'sales', 'create', 'job', 'run-1', '--from=cronjob/orders--orders-pipeline'])
      k(['-n', 'sales', 'wait', '--for=condition=Complete', 'job/run-1', '--timeout=180s'])
      const rows = await rowsThroughPortForward()
      assert.ok(rows.length > 0)
      assert.ok('id' in rows[0])
    })

    it('publishes into Postgres as the storage\'s write user, which its init container made; the read user may read and not write', function () {
      const pod = JSON.parse(k(['-n', 'sales', 'get', 'pod', 'orders-runtime-0', '-o', 'json']))
      assert.equal(pod.status.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 0, JSON.stringify(pod.status.initContainerStatuses))
      const secret = (name: string) => {
        const data = JSON.parse(k(['-n', 'sales', 'get', 'secret', name, '-o', 'json'])).data
        return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(String(value), 'base64').toString()]))
      }
      // psql in the Postgres pod, over TCP with a password (the image trusts only its local socket).
      /** What psql printed, or undefined when it failed (the statement refused). */
      const psql = (user: Record<string, string>, sql: string): string | undefined => {
        try {
          return k(['-n', 'sales', 'exec', 'orders--operational-0', '--', 'env', `PGPASSWORD=${user.password}`, 'psql', '-h', '127.0.0.1', '-U', user.username, '-d', user.database, '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql])
        } catch {
          return undefined
        }
      }
      const write = secret('orders--operational-write')
      const read = secret('orders--operational-read')
      const owner = psql(write, "SELECT tableowner FROM pg_tables WHERE schemaname = 'orders' AND tablename = 'orders__clean'")
      assert.equal(owner?.trim(), write.username, 'the runtime published the state as the write user')
      assert.ok(Number(psql(read, 'SELECT count(*) FROM orders.orders__clean')) > 0, 'the read user reads it')
      assert.equal(psql(read, 'DELETE FROM orders.orders__clean'), undefined, 'the read user may not delete')
      assert.equal(psql(write, 'DROP SCHEMA orders CASCADE'), undefined, 'the write user may not drop the schema')
      assert.equal(psql(read, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")?.trim(), 'f')
    })

    it('serves the same rows through its Service to another pod, by DNS name', function () {
      const url = 'http://orders--orders-table.sales.svc:8080/v1/ports/orders-table?format=ndjson'
      // The domain's namespace enforces Pod Security restricted, so the client pod complies.
      k(['apply', '-f', '-'], JSON.stringify({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'client', namespace: 'sales'}, spec: {
        restartPolicy: 'Never', securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: 'RuntimeDefault'}},
        containers: [{name: 'c', image: BUSYBOX_IMAGE, command: ['wget', '-qO-', '--header', `Authorization: Bearer ${token('orders-reader')}`, url],
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}}}],
      }}))
      k(['-n', 'sales', 'wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/client', '--timeout=120s'])
      const rows = k(['-n', 'sales', 'logs', 'client']).trim().split('\n').map((line) => JSON.parse(line))
      assert.ok(rows.length > 0)
      assert.ok('id' in rows[0])
    })

    it('refuses a real token no DataRole grants (403) and a caller without one (401), the runtime asking the API server', async function () {
      k(['-n', 'sales', 'create', 'serviceaccount', 'stranger'])
      const stranger = await getThroughPortForward(token('stranger'))
      assert.equal(stranger.status, 403, stranger.body)
      assert.match(stranger.body, /stranger/)
      const anonymous = await getThroughPortForward(undefined)
      assert.equal(anonymous.status, 401, anonymous.body)
      const forged = await getThroughPortForward(`${token('orders-reader')}x`)
      assert.equal(forged.status, 401, forged.body)
    })

    it('brings a killed runtime pod and Postgres pod back with their data', async function () {
      const rowsBefore = await rowsThroughPortForward()
      const uids = k(['-n', 'sales', 'get', 'pod', 'orders-runtime-0', 'orders--operational-0', '-o', 'jsonpath={.items[*].metadata.uid}'])
      k(['-n', 'sales', 'delete', 'pod', 'orders-runtime-0', 'orders--operational-0', '--grace-period=0', '--force'])
      for (const pod of ['orders-runtime-0', 'orders--operational-0']) {
        for (let i = 0; i < 300; i++) {
          const uid = sh0(() => k(['-n', 'sales', 'get', 'pod', pod, '-o', 'jsonpath={.metadata.uid}']))
          if (uid && !uids.includes(uid)) break
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
        k(['-n', 'sales', 'wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=180s'])
      }
      assert.deepEqual(await rowsThroughPortForward(), rowsBefore)
    })

    it('delete --wait removes its pods and keeps its volumes', function () {
      const claims = k(['-n', 'sales', 'get', 'pvc', '-o', 'jsonpath={.items[*].metadata.name}']).split(' ').filter(Boolean)
      assert.ok(claims.length > 0)
      const r = dm(['delete', project, '--wait', '--timeout', '5m'])
      assert.equal(r.code, 0, r.stderr)
      const left = JSON.parse(k(['-n', 'sales', 'get', 'pods', '-o', 'json'])).items.map((p: any) => p.metadata.name).filter((n: string) => n.startsWith('orders-') && !n.startsWith('orders--orders-pipeline'))
      assert.deepEqual(left, [])
      const kept = k(['-n', 'sales', 'get', 'pvc', '-o', 'jsonpath={.items[*].metadata.name}']).split(' ').filter(Boolean)
      for (const claim of claims) assert.ok(kept.includes(claim), `claim ${claim} was deleted`)
    })
  })

  // Last (mocha runs a suite's own tests before its nested suites).
  describe('then', function () {
    it('cluster delete leaves no process, mount, interface, network namespace, cgroup or firewall rule behind', function () {
      if (!created) this.skip()
      const r = cli(['cluster', 'delete', '--name', NAME, '--kubeconfig', kubeconfig], {timeout: 5 * 60_000})
      assert.equal(r.code, 0, r.stderr)
      created = false
      const after = hostState(localWorkdir())
      assert.deepEqual(after, baseline)
      assert.equal(existsSync(localNodeDir(NAME)), false)
      assert.equal(readdirSync(path.join(localWorkdir(), 'clusters')).includes(NAME), false)
    })
  })
})

/** The value, or '' when the call throws (e.g. a pod that is not there yet). */
function sh0(call: () => string): string {
  try {
    return call().trim()
  } catch {
    return ''
  }
}
