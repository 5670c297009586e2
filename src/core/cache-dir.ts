import {homedir} from 'node:os'
import {join} from 'node:path'

/** Where dappmesh keeps what it can rebuild (cluster binaries, SQL bind results): ${DAPPMESH_CACHE:-~/.cache/dappmesh}. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DAPPMESH_CACHE || join(homedir(), '.cache', 'dappmesh')
}
