// What the benches that run `dappmesh operator run` against a kwok cluster of their own share:
// starting the cluster with dappmesh's CRDs and volumes, starting the operator and waiting until
// it is ready, counting Ready products, and tearing it all down.
import {spawn, spawnSync} from 'node:child_process'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {run} from './proc.js'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Starts a kwok cluster (cluster/up.sh) of `nodes` nodes, installs dappmesh's CRDs and waits until
 * they are established, and makes `volumes` PersistentVolumes (kwok has no provisioner: what
 * `dappmesh cluster create` does, in larger number).
 */
export async function startCluster({root, cli, work, cluster, kubeconfig, nodes, volumes}) {
  run('bash', [path.join(root, 'cluster/up.sh'), cluster, kubeconfig], {stdio: ['ignore', 'ignore', 'inherit'], env: {...process.env, DAPPMESH_KWOK_NODES: String(nodes)}})
  const crds = path.join(work, 'crds.yaml')
  writeFileSync(crds, run(process.execPath, [cli, 'crds']).stdout)
  run('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--field-manager', 'dappmesh', '-f', crds])
  run('kubectl', ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', 'crd', '-l', 'app.kubernetes.io/part-of=dappmesh', '--timeout=120s'])
  const {loadKubeConfig} = await import(path.join(root, 'dist/core/kube/kubeconfig.js'))
  const {KubeRest} = await import(path.join(root, 'dist/core/kube/rest.js'))
  const {installLocalStorage} = await import(path.join(root, 'dist/core/cluster/local-storage.js'))
  const rest = await KubeRest.create(await loadKubeConfig({kubeconfig}))
  await installLocalStorage(rest, cluster, volumes)
  rest.close()
}

/**
 * Starts `dappmesh operator run` and resolves, once its /readyz answers, to the process and its
 * health URL. `nodeArgs` go to its node (e.g. --cpu-prof), `args` to `operator run` (e.g.
 * --leader-elect), `env` adds to the environment (the operator Deployment's NODE_OPTIONS and
 * MALLOC_ARENA_MAX, to measure what the cluster runs).
 */
export async function startOperator({cli, kubeconfig, nodeArgs = [], args = [], env = {}}) {
  const operator = spawn(process.execPath, [...nodeArgs, cli, 'operator', 'run', '--kubeconfig', kubeconfig, '--health-port', '0', ...args], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NO_COLOR: '1', ...env}})
  let operatorLog = ''
  const url = await new Promise((resolve, reject) => {
    operator.stderr.on('data', (chunk) => {
      operatorLog += chunk
      const m = /health endpoints on (http:\/\/\S+)/.exec(operatorLog)
      if (m) resolve(m[1])
    })
    operator.once('exit', (code) => reject(new Error(`the operator exited (${code}):\n${operatorLog.slice(-2000)}`)))
  })
  for (let i = 0; !(await fetch(`${url}/readyz`).then((r) => r.ok).catch(() => false)); i++) {
    if (i > 600) throw new Error('the operator did not become ready within 60 s')
    await sleep(100)
  }
  return {operator, url}
}

/** How many DataProducts are Ready for their current generation, and what one that is not is waiting for. */
export function readyProducts(kubeconfig) {
  const list = JSON.parse(run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'dataproducts', '-A', '-o', 'json']).stdout)
  const ready = (p) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True' && p.status.observedGeneration === p.metadata.generation)
  const waiting = list.items.find((p) => !ready(p))
  return {
    ready: list.items.filter(ready).length,
    waiting: waiting ? `${waiting.metadata.namespace}/${waiting.metadata.name}: ${(waiting.status?.conditions ?? []).find((c) => c.type === 'Ready')?.message ?? 'no status yet'}` : '',
  }
}

/**
 * Stops the operator (SIGTERM, then SIGKILL after 20 s), deletes the cluster (cluster/down.sh
 * stops every process of it) and removes the bench's work directory.
 */
export async function teardown({root, operator, cluster, work}) {
  if (operator && operator.exitCode === null) {
    operator.kill('SIGTERM')
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        operator.kill('SIGKILL')
        resolve()
      }, 20_000)
      operator.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
  spawnSync('bash', [path.join(root, 'cluster/down.sh'), cluster], {stdio: ['ignore', 'ignore', 'inherit']})
  rmSync(work, {recursive: true, force: true})
}
