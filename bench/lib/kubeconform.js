// kubeconform, the reference for validation throughput: built from its Go module on first use
// and cached per version outside the repository, like the cluster binaries.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** v0.8.0's go.mod builds with the installed Go (1.26) and GOTOOLCHAIN=local. */
export const KUBECONFORM_VERSION = 'v0.8.0'
const MODULE = 'github.com/yannh/kubeconform/cmd/kubeconform'

function cacheDir() {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'dappmesh', 'kubeconform', KUBECONFORM_VERSION)
}

/**
 * The path of a kubeconform binary: $DAPPMESH_KUBECONFORM when set, else the cached build, built
 * now if missing. Returns {binary} or {skipped: reason} when it cannot be had (no Go).
 */
export function ensureKubeconform(log) {
  if (process.env.DAPPMESH_KUBECONFORM) return {binary: process.env.DAPPMESH_KUBECONFORM, version: 'from DAPPMESH_KUBECONFORM'}
  const dir = cacheDir()
  const binary = path.join(dir, 'kubeconform')
  if (existsSync(binary)) return {binary, version: KUBECONFORM_VERSION}
  const go = spawnSync('go', ['version'], {encoding: 'utf8'})
  if (go.error || go.status !== 0) return {skipped: 'Go is not installed, so kubeconform cannot be built'}
  mkdirSync(dir, {recursive: true})
  log(`building kubeconform ${KUBECONFORM_VERSION} into ${dir} (once per machine)...`)
  const build = spawnSync('go', ['install', `${MODULE}@${KUBECONFORM_VERSION}`], {
    env: {...process.env, GOTOOLCHAIN: 'local', GOBIN: dir, CGO_ENABLED: '0'},
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (build.status !== 0 || !existsSync(binary)) return {skipped: `go install ${MODULE}@${KUBECONFORM_VERSION} failed: ${(build.stderr || '').trim().split('\n').slice(-3).join(' | ')}`}
  return {binary, version: KUBECONFORM_VERSION}
}

/**
 * Writes each kind's JSON Schema where kubeconform's `-schema-location` template
 * `DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json` finds it: ResourceKind is the lower-cased kind,
 * KindSuffix is "-<first label of the group>-<version>", so DataFlow in dappmesh.io/v1alpha1 is
 * `dataflow-dappmesh-v1alpha1.json`. Returns the template to pass.
 */
export function exportSchemas(kinds, dir, apiVersion) {
  mkdirSync(dir, {recursive: true})
  const [group, version] = apiVersion.split('/')
  const suffix = `-${group.split('.')[0].toLowerCase()}-${version.toLowerCase()}`
  for (const k of kinds) writeFileSync(path.join(dir, `${k.kind.toLowerCase()}${suffix}.json`), JSON.stringify(k.schema, null, 2))
  return path.join(dir, '{{ .ResourceKind }}{{ .KindSuffix }}.json')
}

/** Parses kubeconform's `-summary` line. */
export function parseSummary(text) {
  const m = /Summary: (\d+) resources? found in (\d+) files? - Valid: (\d+), Invalid: (\d+), Errors: (\d+),? Skipped: (\d+)/.exec(text)
  if (!m) return undefined
  const [resources, files, valid, invalid, errors, skipped] = m.slice(1).map(Number)
  return {resources, files, valid, invalid, errors, skipped}
}
