import {join} from 'node:path'

import {cacheDir} from '../cache-dir.js'

/**
 * The local image registry of `cluster create --provider local` (Debian's docker-registry, run by
 * cluster/registry.sh). The real node's containerd uses it as the mirror of docker.io, so a
 * manifest's `postgres:16` is pulled from here as library/postgres:16 and manifests keep the names
 * users see. Its storage is in the cache, not in a cluster: images survive `cluster delete`.
 * The defaults here are those of cluster/versions.sh (dappmesh_registry_addr, dappmesh_registry_dir).
 */
export const DEFAULT_REGISTRY_ADDRESS = '127.0.0.1:5001'

export function registryAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.DAPPMESH_REGISTRY_ADDR || DEFAULT_REGISTRY_ADDRESS
}

export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DAPPMESH_REGISTRY_DIR || join(cacheDir(env), 'registry')
}

/**
 * Where an image a manifest names is pushed so the node finds it: docker.io's names (and the
 * unqualified ones, which are docker.io's) map onto the registry's paths; `postgres:16` →
 * `127.0.0.1:5001/library/postgres:16`. Other registries are not mirrored.
 */
export function mirroredName(image: string, env: NodeJS.ProcessEnv = process.env): string {
  const firstSlash = image.indexOf('/')
  const first = firstSlash === -1 ? '' : image.slice(0, firstSlash)
  const qualified = first.includes('.') || first.includes(':') || first === 'localhost'
  if (qualified && first !== 'docker.io') {
    throw new Error(`${image} is not a docker.io image; the local registry mirrors docker.io only`)
  }
  const path = qualified ? image.slice(firstSlash + 1) : image
  return `${registryAddress(env)}/${path.includes('/') ? path : `library/${path}`}`
}
