import {createRequire} from 'node:module'

type DuckDBApi = typeof import('@duckdb/node-api')

let loaded: DuckDBApi | undefined

/**
 * @duckdb/node-api, loaded on first use: only commands that touch data pay for its native library.
 * Through require, not import(): the package is CommonJS of ~180 modules, and the ES module loader
 * takes each through its CommonJS translation (measured: ~250-350 ms CPU by import() against
 * ~110-135 ms by require, a third of a small `dappmesh run` and of every runtime start).
 */
export function loadDuckDB(): DuckDBApi {
  loaded ??= createRequire(import.meta.url)('@duckdb/node-api') as DuckDBApi
  return loaded
}
