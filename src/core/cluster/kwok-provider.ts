import {existsSync} from 'node:fs'
import {mkdtemp, readFile, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'

import {TimeoutError, UserError} from '../errors.js'
import {clusterScriptsDir, ensureBinaries, kwokWorkdir} from './binaries.js'
import type {ClusterProvider, ListedCluster, ProvidedCluster, ProviderCreateOptions} from './provider.js'
import {findOnPath} from './tools.js'

/**
 * kwok's binary runtime: a real etcd, kube-apiserver, kube-controller-manager and kube-scheduler
 * run as local processes, and kwok simulates nodes and pods. No Docker, no root. The work is done
 * by cluster/up.sh and down.sh (shipped in the package), the scripts the integration tests use.
 */
export class KwokProvider implements ClusterProvider {
  readonly name = 'kwok' as const

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** Go is checked only when binaries must be built (ensureBinaries); the scripts need bash. */
  async checkTools(): Promise<void> {
    if (!(await findOnPath('bash', this.env.PATH))) {
      throw new UserError('the kwok provider runs shell scripts and needs `bash`, which is not on PATH', {
        suggestions: ['install bash (e.g. apt-get install bash), or use --provider kind'],
      })
    }
  }

  clusterDir(name: string): string {
    return join(kwokWorkdir(this.env), 'clusters', name)
  }

  async create(options: ProviderCreateOptions): Promise<ProvidedCluster> {
    await this.checkTools()
    await ensureBinaries({env: this.env, onProgress: options.onProgress})
    const dir = await mkdtemp(join(tmpdir(), 'dappmesh-kwok-'))
    try {
      const kubeconfigPath = join(dir, 'kubeconfig')
      const waitSeconds = Math.max(1, Math.ceil(options.waitMs / 1000))
      options.onProgress?.(`starting kwok cluster ${options.name} (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)`)
      const result = await execa('bash', [join(clusterScriptsDir, 'up.sh'), options.name, kubeconfigPath], {
        env: {...this.env, DAPPMESH_KWOK_WAIT: `${waitSeconds}s`, DAPPMESH_KWOK_NODES: String(options.nodes ?? 3)},
        reject: false,
        stdin: 'ignore',
        all: true,
      })
      if (result.exitCode !== 0) {
        const output = String(result.all ?? '').trim()
        if (result.exitCode === 1 && /already exists/.test(output)) {
          throw new UserError(`a kwok cluster named ${options.name} already exists`, {suggestions: [`delete it first: dappmesh cluster delete --name ${options.name}`]})
        }
        if (/timed out|timeout|deadline exceeded/i.test(output)) {
          throw new TimeoutError(`kwok cluster ${options.name} was not ready within ${waitSeconds}s:\n${output}`, ['retry with a longer --wait'])
        }
        throw new UserError(`creating kwok cluster ${options.name} failed (up.sh exit ${result.exitCode}):\n${output}`)
      }
      return {kubeconfigYaml: await readFile(kubeconfigPath, 'utf8'), baseDir: this.clusterDir(options.name)}
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  }

  async delete(name: string): Promise<void> {
    const result = await execa('bash', [join(clusterScriptsDir, 'down.sh'), name], {env: this.env, reject: false, stdin: 'ignore', all: true})
    if (result.exitCode !== 0) throw new UserError(`deleting kwok cluster ${name} failed:\n${String(result.all ?? '').trim()}`)
  }

  async list(): Promise<ListedCluster[]> {
    const root = join(kwokWorkdir(this.env), 'clusters')
    if (!existsSync(root)) return []
    const entries = await readdir(root, {withFileTypes: true})
    const clusters: ListedCluster[] = []
    for (const entry of entries.filter((item) => item.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      const pids = await this.pids(entry.name)
      const alive = await Promise.all(pids.map((pid) => this.isOurs(entry.name, pid)))
      const status = pids.length > 0 && alive.every(Boolean) ? 'running' : 'stopped'
      clusters.push({name: entry.name, provider: 'kwok', status})
    }
    return clusters
  }

  /** The PIDs of the cluster's component processes, from kwokctl's pid files. */
  async pids(name: string): Promise<number[]> {
    const dir = join(this.clusterDir(name), 'pids')
    if (!existsSync(dir)) return []
    const files = (await readdir(dir)).filter((file) => file.endsWith('.pid'))
    const pids = await Promise.all(files.map(async (file) => Number.parseInt((await readFile(join(dir, file), 'utf8')).trim(), 10)))
    return pids.filter((pid) => Number.isInteger(pid) && pid > 0)
  }

  /** A PID is the cluster's while its command line names the cluster's directory (PIDs get reused). */
  async isOurs(name: string, pid: number): Promise<boolean> {
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8')
      return cmdline.includes(this.clusterDir(name))
    } catch {
      // No /proc (macOS): fall back to "a process with that PID exists".
      if (existsSync('/proc/self')) return false
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
  }
}
