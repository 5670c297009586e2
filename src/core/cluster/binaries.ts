import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

import {cacheDir} from '../cache-dir.js'
import {UserError} from '../errors.js'
import {findOnPath} from './tools.js'

/**
 * The kwok provider runs a real control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, kwok) as local processes. The binaries are built from source by
 * cluster/build.sh (shipped in the package), the same script the integration tests use, and cached per version under
 * ${DAPPMESH_CACHE:-~/.cache/dappmesh}/bin/.
 */

// src/core/cluster/ and dist/core/cluster/ both sit three levels below the package root.
export const clusterScriptsDir = fileURLToPath(new URL('../../../cluster/', import.meta.url))

export const BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'etcd', 'kwok', 'kwokctl'] as const

export interface Versions {
  kube: string
  etcd: string
  kwok: string
}

/** The pinned versions, read from versions.sh so the scripts and this code never disagree. */
export function pinnedVersions(scriptsDir = clusterScriptsDir): Versions {
  const text = readFileSync(join(scriptsDir, 'versions.sh'), 'utf8')
  const read = (name: string): string => {
    const match = new RegExp(`^${name}="([^"]+)"`, 'm').exec(text)
    if (!match) throw new Error(`${name} is not set in ${join(scriptsDir, 'versions.sh')}`)
    return match[1]
  }
  return {kube: read('KUBE_VERSION'), etcd: read('ETCD_VERSION'), kwok: read('KWOK_VERSION')}
}

export {cacheDir} from '../cache-dir.js'

export function binDir(env: NodeJS.ProcessEnv = process.env, versions = pinnedVersions()): string {
  return join(cacheDir(env), 'bin', `kube-${versions.kube}_etcd-${versions.etcd}_kwok-${versions.kwok}`)
}

export function kwokWorkdir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DAPPMESH_KWOK_WORKDIR || join(cacheDir(env), 'kwok')
}

export function missingBinaries(env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = binDir(env)
  return BINARIES.filter((name) => !existsSync(join(dir, name)))
}

/**
 * Builds whatever binary is not cached yet. The first build on a machine compiles Kubernetes
 * and takes 10–20 minutes on two cores; later calls return at once.
 */
export async function ensureBinaries(options: {onProgress?: (message: string) => void; env?: NodeJS.ProcessEnv} = {}): Promise<string> {
  const env = options.env ?? process.env
  const missing = missingBinaries(env)
  if (missing.length === 0) return binDir(env)
  if (!existsSync(join(clusterScriptsDir, 'build.sh'))) {
    throw new UserError(`the kwok provider's build scripts are missing from this installation (${clusterScriptsDir})`, {
      suggestions: ['install dappmesh from its source repository, or use --provider kind'],
    })
  }
  if (!(await findOnPath('go', env.PATH))) {
    throw new UserError(`the kwok provider builds ${missing.join(', ')} from source on first use, and Go is not on PATH`, {
      suggestions: ['install Go 1.26 or later (https://go.dev/doc/install), or use --provider kind when Docker is available'],
    })
  }
  options.onProgress?.(`building ${missing.join(', ')} into ${binDir(env)} (first use on this machine: 10–20 minutes; cached afterwards)`)
  const result = await execa('bash', [join(clusterScriptsDir, 'build.sh')], {env, reject: false, stdin: 'ignore', stdout: 'pipe', stderr: 'inherit'})
  if (result.exitCode !== 0) {
    throw new UserError(`building the kwok control-plane binaries failed (build.sh exit ${result.exitCode}); its output is above`, {
      suggestions: ['check that the Go module proxy is reachable and GOTOOLCHAIN=local works with your Go', `run it by hand: bash ${join(clusterScriptsDir, 'build.sh')}`],
    })
  }
  return binDir(env)
}
