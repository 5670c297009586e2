/**
 * One real Kubernetes control plane (kwok's binary runtime: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler as local processes, simulated nodes) for the whole
 * mocha run. Mocha calls mochaGlobalSetup/mochaGlobalTeardown because .mocharc.cjs requires
 * this file. The cluster is started only when the run loads an integration test (so a unit-only
 * run costs nothing); suites call `requireCluster(this)` in `before`, which also starts it lazily
 * when setup could not tell (parallel mode).
 *
 * DAPPMESH_TEST_NO_CLUSTER=1: start nothing; integration suites skip themselves.
 * DAPPMESH_TEST_KUBECONFIG: set by setup to the cluster's kubeconfig (context kwok-<name>).
 */
import {spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {kwokWorkdir, missingBinaries} from '../../src/core/cluster/binaries.js'
import {ROOT} from './cli.js'
import {withKubeClient} from './kube.js'

export const SCRIPTS = path.join(ROOT, 'cluster')
const NAME_PREFIX = 'dappmesh-test-'

interface TestCluster {
  name: string
  kubeconfig: string
  dir: string
}

let starting: Promise<TestCluster> | undefined
let running: TestCluster | undefined

export function clusterDisabled(): boolean {
  return process.env.DAPPMESH_TEST_NO_CLUSTER === '1'
}

/** Runs a script of cluster/ with its output on our stderr; rejects on a non-zero exit. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(SCRIPTS, script), ...args], {stdio: ['ignore', 'ignore', 'inherit'], env})
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`cluster/${script} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`))
    })
  })
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Clusters left by a test run that was killed before its teardown (its PID is in the name). */
async function removeAbandonedClusters(): Promise<void> {
  const root = path.join(kwokWorkdir(), 'clusters')
  if (!existsSync(root)) return
  for (const name of readdirSync(root)) {
    const owner = Number(name.slice(NAME_PREFIX.length).split('-')[0])
    if (name.startsWith(NAME_PREFIX) && Number.isInteger(owner) && owner !== process.pid && !pidAlive(owner)) {
      process.stderr.write(`removing kwok cluster ${name} left by an earlier test run\n`)
      await runScript('down.sh', [name]).catch(() => {})
    }
  }
}

/** A sync last resort, for a run that ends without teardown (an uncaught error, Ctrl-C). */
function downNow(): void {
  if (!running) return
  const {name} = running
  running = undefined
  spawnSync('bash', [path.join(SCRIPTS, 'down.sh'), name], {stdio: ['ignore', 'ignore', 'inherit']})
}

function onSignal(signal: NodeJS.Signals): void {
  downNow()
  process.exit(signal === 'SIGINT' ? 130 : 143)
}

async function startCluster(): Promise<TestCluster> {
  await removeAbandonedClusters()
  const name = `${NAME_PREFIX}${process.pid}-${randomBytes(2).toString('hex')}`
  const dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-test-'))
  const kubeconfig = path.join(dir, 'kubeconfig')
  const started = Date.now()
  const building = missingBinaries().length > 0 ? ' (first run on this machine: building the control-plane binaries first, several minutes)' : ''
  process.stderr.write(`starting the test cluster ${name}${building}\n`)
  await runScript('build.sh', [])
  process.on('exit', downNow)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  running = {name, kubeconfig, dir}
  await runScript('up.sh', [name, kubeconfig])
  process.env.DAPPMESH_TEST_KUBECONFIG = kubeconfig
  process.stderr.write(`test cluster ${name} ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`)
  return running
}

export function ensureTestCluster(): Promise<TestCluster> {
  starting ??= startCluster()
  return starting
}

/** Whether this run loaded any test file under test/integration/. */
function runLoadsIntegrationTests(runner: any): boolean {
  const root = runner?.suite
  if (!root) return true
  const visit = (suite: any): boolean =>
    [suite.file, ...(suite.tests ?? []).map((test: any) => test.file)].some((file) => typeof file === 'string' && file.includes(`${path.sep}test${path.sep}integration${path.sep}`)) ||
    (suite.suites ?? []).some(visit)
  return visit(root)
}

export async function mochaGlobalSetup(this: unknown): Promise<void> {
  if (clusterDisabled() || !runLoadsIntegrationTests(this)) return
  try {
    await ensureTestCluster()
  } catch (error) {
    // Unit tests still run; each integration suite fails in requireCluster with this error.
    process.stderr.write(`the test cluster could not be started: ${(error as Error).message}\n`)
  }
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (!running) return
  const {name, dir} = running
  running = undefined
  await runScript('down.sh', [name])
  await rm(dir, {recursive: true, force: true})
}

/**
 * Call in an integration suite's `before`: returns the test cluster's kubeconfig path, starting
 * the cluster if needed, or skips the suite when DAPPMESH_TEST_NO_CLUSTER=1.
 */
export async function requireCluster(context: Mocha.Context): Promise<string> {
  if (clusterDisabled()) context.skip()
  context.timeout(0)
  const cluster = await ensureTestCluster()
  return cluster.kubeconfig
}

/**
 * A namespace of its own for one suite, named `<prefix>-<random>`; `remove()` deletes it
 * (call it in `after`). Loads the Kubernetes client only when used.
 */
export async function createTestNamespace(kubeconfig: string, prefix = 'test'): Promise<{name: string; remove: () => Promise<void>}> {
  const [{KubeApiError}, {resourcePath}] = await Promise.all([import('../../src/core/kube/rest.js'), import('../../src/core/kube/paths.js')])
  const name = `${prefix}-${randomBytes(4).toString('hex')}`.slice(0, 63)
  await withKubeClient(kubeconfig, (client) => client.request('POST', resourcePath('v1', 'Namespace'), {body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name, labels: {'dappmesh.io/test': 'true'}}}}))
  return {
    name,
    remove: async () => {
      await withKubeClient(kubeconfig, (client) => client.delete(resourcePath('v1', 'Namespace', undefined, name))).catch((error: unknown) => {
        if (!(error instanceof KubeApiError && error.status === 404)) throw error
      })
    },
  }
}
