/**
 * What binding a transition's SQL found, remembered by the content of the request: the SQL, the
 * columns of its input tables and of its target state, and the DuckDB and dappmesh versions.
 * Loading DuckDB costs several times Node's own start-up, and the SQL of a project changes far
 * less often than it is validated (editors and CI run validate all day), so an unchanged
 * transition is answered from here without loading DuckDB. Entries are only ever added for a new
 * key, never edited, so a stale answer is impossible: any change to an input makes a new key.
 *
 * The file is ${DAPPMESH_CACHE:-~/.cache/dappmesh}/sql-bind.json; DAPPMESH_SQL_CACHE names
 * another file, or `off` disables it. A cache that cannot be read or written is no cache: the
 * SQL is bound as if it were not there.
 */
import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'

import {cacheDir} from '../../cache-dir.js'
import type {BindRequest, SqlProblem} from './binder.js'

/** Bump when the binder's findings change for the same input. */
const FORMAT = 3
/** Enough for every transition of many projects; the oldest entries go first. */
const MAX_ENTRIES = 5000

interface Entry {
  problems: SqlProblem[]
  /** When it was written (ms since the epoch), to drop the oldest first. */
  at: number
}

interface CacheFile {
  format: number
  entries: Record<string, Entry>
}

export function sqlCacheFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env.DAPPMESH_SQL_CACHE
  if (setting === 'off' || setting === '0') return undefined
  return setting || path.join(cacheDir(env), 'sql-bind.json')
}

let versions: string | undefined
/** DuckDB's and dappmesh's versions: an upgrade of either may bind differently. */
function engineVersions(): string {
  if (versions === undefined) {
    const require = createRequire(import.meta.url)
    const read = (name: string) => {
      try {
        return (require(name) as {version: string}).version
      } catch {
        return 'unknown'
      }
    }
    versions = `${read('@duckdb/node-bindings/package.json')}/${read('../../../../package.json')}`
  }
  return versions
}

export function cacheKey(request: BindRequest): string {
  return createHash('sha256').update(JSON.stringify([FORMAT, engineVersions(), request])).digest('base64url')
}

export class SqlBindCache {
  private readonly added = new Map<string, Entry>()

  private constructor(
    private readonly file: string | undefined,
    private readonly entries: Record<string, Entry>,
  ) {}

  static load(file = sqlCacheFile()): SqlBindCache {
    if (!file) return new SqlBindCache(undefined, {})
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as CacheFile
      if (data.format === FORMAT && data.entries && typeof data.entries === 'object') return new SqlBindCache(file, data.entries)
    } catch {
      // missing or unreadable: start empty
    }
    return new SqlBindCache(file, {})
  }

  get(key: string): SqlProblem[] | undefined {
    const entry = this.added.get(key) ?? (Object.hasOwn(this.entries, key) ? this.entries[key] : undefined)
    return Array.isArray(entry?.problems) ? entry.problems : undefined
  }

  set(key: string, problems: SqlProblem[]): void {
    this.added.set(key, {problems, at: Date.now()})
  }

  /**
   * Writes what was added, merged with what another process may have written meanwhile, through a
   * temporary file and a rename, so a reader never sees half a file.
   */
  save(): void {
    if (!this.file || this.added.size === 0) return
    const tmp = `${this.file}.${process.pid}.tmp`
    try {
      const current = SqlBindCache.load(this.file).entries
      const merged = Object.entries({...current, ...Object.fromEntries(this.added)})
        .sort((a, b) => b[1].at - a[1].at)
        .slice(0, MAX_ENTRIES)
      mkdirSync(path.dirname(this.file), {recursive: true})
      writeFileSync(tmp, JSON.stringify({format: FORMAT, entries: Object.fromEntries(merged)} satisfies CacheFile))
      renameSync(tmp, this.file)
      this.added.clear()
    } catch {
      try {
        rmSync(tmp, {force: true})
      } catch {
        // nothing was written where nothing can be
      }
    }
  }
}
