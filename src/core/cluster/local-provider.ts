import {existsSync} from 'node:fs'
import {mkdtemp, readFile, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'

import {cacheDir} from '../cache-dir.js'
import {TimeoutError, UsageError, UserError} from '../errors.js'
import {clusterScriptsDir, ensureBinaries} from './binaries.js'
import {KwokProvider} from './kwok-provider.js'
import {NODE_LOCAL_VOLUMES} from './local-storage.js'
import type {ClusterProvider, ListedCluster, ProvidedCluster, ProviderCreateOptions} from './provider.js'

/** The workdir of local clusters' control planes and nodes (cluster/versions.sh: dappmesh_local_workdir). */
export function localWorkdir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DAPPMESH_LOCAL_WORKDIR || join(cacheDir(env), 'local')
}

/** The real node's directory: containerd's root and state, kubelet's root, logs, volumes. */
export function localNodeDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(localWorkdir(env), 'nodes', name)
}

/** The name the real node registers as. */
export function localNodeName(cluster: string): string {
  return `${cluster}-node`
}

/**
 * A cluster with a real node on this machine: kwok's binary-runtime control plane, plus
 * containerd, runc, a bridge CNI, kubelet, kube-proxy and CoreDNS as host processes, images from
 * the local registry (registry.ts). Pods really run. Needs root, runc and the CNI plugins. The
 * work is done by cluster/local-up.sh and local-down.sh, which the tests and scripts/journey.sh use
 * too; only one local cluster runs on a machine at a time (kube-proxy's chains are the host's).
 */
export class LocalProvider implements ClusterProvider {
  readonly name = 'local' as const
  /** Listing and liveness are kwok's (the control plane is a kwok cluster in another workdir). */
  private readonly controlPlanes: KwokProvider

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    this.controlPlanes = new KwokProvider({...env, DAPPMESH_KWOK_WORKDIR: localWorkdir(env)})
  }

  /** Exit 2 naming what is missing (root, runc, CNI plugins, ...), before anything starts. */
  async checkTools(): Promise<void> {
    const result = await execa('bash', [join(clusterScriptsDir, 'local-check.sh')], {env: this.env, reject: false, stdin: 'ignore', all: true})
    if (result.exitCode === 0) return
    const output = String(result.all ?? '').trim()
    if (result.exitCode === 2) {
      throw new UsageError(output, ['install what is listed and run as root, or use --provider kwok (simulated nodes, no root)'])
    }
    throw new UserError(`checking this machine for a real node failed (local-check.sh exit ${result.exitCode}):\n${output}`)
  }

  async create(options: ProviderCreateOptions): Promise<ProvidedCluster> {
    await this.checkTools()
    await ensureBinaries({env: this.env, onProgress: options.onProgress})
    const dir = await mkdtemp(join(tmpdir(), 'dappmesh-local-'))
    try {
      const kubeconfigPath = join(dir, 'kubeconfig')
      const waitSeconds = Math.max(1, Math.ceil(options.waitMs / 1000))
      options.onProgress?.(`starting local cluster ${options.name}: control plane, then containerd, kubelet, kube-proxy and CoreDNS on this machine`)
      const result = await execa('bash', [join(clusterScriptsDir, 'local-up.sh'), options.name, kubeconfigPath], {
        env: {...this.env, DAPPMESH_KWOK_WAIT: `${waitSeconds}s`, DAPPMESH_KWOK_NODES: String(options.nodes ?? 0), DAPPMESH_LOCAL_VOLUMES: String(NODE_LOCAL_VOLUMES)},
        reject: false,
        stdin: 'ignore',
        all: true,
        timeout: options.waitMs + 15 * 60_000, // first use builds the node's binaries
      })
      if (result.exitCode !== 0) {
        const output = String(result.all ?? '').trim()
        if (/already runs a real node|already exists/.test(output)) {
          throw new UserError(`cannot create local cluster ${options.name}:\n${output}`, {suggestions: ['delete the other local cluster first (one real node per machine), or use --provider kwok']})
        }
        if (/timed out|timeout|deadline exceeded|did not come up/i.test(output)) {
          throw new TimeoutError(`local cluster ${options.name} was not ready within ${waitSeconds}s:\n${output}`, ['retry with a longer --wait'])
        }
        throw new UserError(`creating local cluster ${options.name} failed (local-up.sh exit ${result.exitCode}):\n${output}`)
      }
      return {kubeconfigYaml: await readFile(kubeconfigPath, 'utf8'), baseDir: this.controlPlanes.clusterDir(options.name)}
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  }

  async delete(name: string): Promise<void> {
    const result = await execa('bash', [join(clusterScriptsDir, 'local-down.sh'), name], {env: this.env, reject: false, stdin: 'ignore', all: true})
    if (result.exitCode !== 0) throw new UserError(`deleting local cluster ${name} left something behind:\n${String(result.all ?? '').trim()}`)
  }

  async list(): Promise<ListedCluster[]> {
    const clusters = await this.controlPlanes.list()
    // A node directory without a control plane is a half-deleted cluster: list it so it can be deleted.
    const orphans = existsSync(join(localWorkdir(this.env), 'nodes')) ? await this.nodeNames() : []
    const names = new Set(clusters.map((cluster) => cluster.name))
    return [
      ...clusters.map((cluster) => ({...cluster, provider: this.name})),
      ...orphans.filter((name) => !names.has(name)).map((name) => ({name, provider: this.name, status: 'stopped' as const})),
    ].sort((a, b) => a.name.localeCompare(b.name))
  }

  private async nodeNames(): Promise<string[]> {
    const entries = await readdir(join(localWorkdir(this.env), 'nodes'), {withFileTypes: true})
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name)
  }
}
