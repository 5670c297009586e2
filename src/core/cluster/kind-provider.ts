import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {stringify} from 'yaml'

import {TimeoutError, UserError} from '../errors.js'
import type {ClusterProvider, ListedCluster, ProvidedCluster, ProviderCreateOptions} from './provider.js'
import {dockerEngineAnswers, findOnPath} from './tools.js'

const INSTALL_KIND = 'install kind: go install sigs.k8s.io/kind@latest (or see https://kind.sigs.k8s.io/docs/user/quick-start/#installation)'
const USE_KWOK = 'or use --provider kwok, which needs no Docker'

/** The kind cluster configuration dappmesh generates: one control-plane node, API on loopback only. */
export function kindConfig(name: string): Record<string, unknown> {
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name,
    networking: {apiServerAddress: '127.0.0.1'},
    nodes: [{role: 'control-plane', labels: {'dappmesh.io/cluster': name}}],
  }
}

export function kindConfigYaml(name: string): string {
  return stringify(kindConfig(name))
}

/** Whole seconds, as kind's --wait takes a Go duration. */
export function kindCreateArgs(name: string, configPath: string, kubeconfigPath: string, waitMs: number): string[] {
  return ['create', 'cluster', '--name', name, '--config', configPath, '--kubeconfig', kubeconfigPath, '--wait', `${Math.max(1, Math.ceil(waitMs / 1000))}s`]
}

export function kindExportKubeconfigArgs(name: string, kubeconfigPath: string): string[] {
  return ['export', 'kubeconfig', '--name', name, '--kubeconfig', kubeconfigPath]
}

export function kindDeleteArgs(name: string): string[] {
  return ['delete', 'cluster', '--name', name]
}

/** kind runs each node as a Docker container with a real kubelet. */
export class KindProvider implements ClusterProvider {
  readonly name = 'kind' as const

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  private async kind(): Promise<string> {
    const kind = await findOnPath('kind', this.env.PATH)
    if (!kind) throw new UserError('the kind provider needs `kind`, which is not on PATH', {suggestions: [INSTALL_KIND, USE_KWOK]})
    return kind
  }

  async checkTools(): Promise<void> {
    await this.kind()
    if (!(await findOnPath('docker', this.env.PATH))) {
      throw new UserError('the kind provider needs Docker, and `docker` is not on PATH', {
        suggestions: ['install Docker Engine (https://docs.docker.com/engine/install/) and start it', USE_KWOK],
      })
    }
    if (!(await dockerEngineAnswers(this.env))) {
      throw new UserError('the kind provider needs a running Docker engine, and `docker info` gets no answer', {
        suggestions: ['start Docker (e.g. sudo systemctl start docker) and check `docker info`', USE_KWOK],
      })
    }
  }

  async create(options: ProviderCreateOptions): Promise<ProvidedCluster> {
    await this.checkTools()
    const kind = await this.kind()
    const dir = await mkdtemp(join(tmpdir(), 'dappmesh-kind-'))
    try {
      const configPath = join(dir, 'kind.yaml')
      const kubeconfigPath = join(dir, 'kubeconfig')
      await writeFile(configPath, kindConfigYaml(options.name))
      options.onProgress?.(`creating kind cluster ${options.name}`)
      const created = await execa(kind, kindCreateArgs(options.name, configPath, kubeconfigPath, options.waitMs), {env: this.env, reject: false, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe'})
      if (created.exitCode !== 0) {
        const output = String(created.stderr).trim()
        if (/timed out|context deadline exceeded/i.test(output)) {
          throw new TimeoutError(`kind cluster ${options.name} was not ready in time:\n${output}`, [`delete it with dappmesh cluster delete --name ${options.name} and retry with a longer --wait`])
        }
        throw new UserError(`kind create cluster failed:\n${output}`)
      }
      const exported = await execa(kind, kindExportKubeconfigArgs(options.name, kubeconfigPath), {env: this.env, reject: false, stdin: 'ignore'})
      if (exported.exitCode !== 0) throw new UserError(`kind export kubeconfig failed:\n${String(exported.stderr).trim()}`)
      return {kubeconfigYaml: await readFile(kubeconfigPath, 'utf8'), baseDir: dir}
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  }

  async delete(name: string): Promise<void> {
    const kind = await this.kind()
    const result = await execa(kind, kindDeleteArgs(name), {env: this.env, reject: false, stdin: 'ignore'})
    if (result.exitCode !== 0) throw new UserError(`kind delete cluster failed:\n${String(result.stderr).trim()}`)
  }

  async list(): Promise<ListedCluster[]> {
    const kind = await findOnPath('kind', this.env.PATH)
    if (!kind) return []
    const result = await execa(kind, ['get', 'clusters'], {env: this.env, reject: false, stdin: 'ignore', timeout: 15_000})
    if (result.exitCode !== 0) return []
    return String(result.stdout)
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('No kind clusters'))
      .map((name) => ({name, provider: 'kind' as const, status: 'unknown' as const}))
  }
}
