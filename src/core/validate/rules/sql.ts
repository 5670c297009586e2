import {stateTable} from '../../engine/types.js'
import type {DataFlow} from '../../model/types.js'
import type {Project} from '../../project/load.js'
import type {Resource} from '../../project/resource.js'
import {ValidationContext} from '../context.js'
import type {Finding} from '../finding.js'
import type {BindRequest, ColumnSpec, SqlBinder, SqlProblem} from '../sql/binder.js'
import {SqlBindCache, cacheKey} from '../sql/cache.js'
import {flowStateRef} from './ref.js'

interface Transition {
  flow: Resource<'DataFlow'>
  index: number
  name: string
  request: BindRequest
}

export interface SqlCheckOptions {
  /** Where bind results are remembered; false binds every transition afresh. */
  cache?: SqlBindCache | false
  /** A binder already being opened (see startSql), used if some transition needs one; its opener closes it. */
  binder?: Promise<SqlBinder>
}

/** What startSql began: the cache it read, and DuckDB opening when the cache will not answer. */
export interface SqlStart {
  cache: SqlBindCache
  binder?: Promise<SqlBinder>
}

export interface SqlCheck {
  findings: Finding[]
  /** How many transitions DuckDB bound in this check (the others came from the cache). */
  bound: number
}

/**
 * The transitions with SQL whose states all resolve (a state that does not is the `ref` rule's
 * finding, and nothing can be bound without it), as bind requests.
 */
export function sqlTransitions(ctx: ValidationContext): Transition[] {
  const out: Transition[] = []
  for (const flow of ctx.all('DataFlow')) {
    const spec: DataFlow['spec'] = flow.object.spec
    const resolve = (s: string) => {
      const ref = flowStateRef(spec.schema, spec.version, s)
      const resolved = ref && ctx.resolveState(ref)
      return ref && resolved && resolved !== 'unknown' && 'state' in resolved ? {ref, state: resolved.state} : undefined
    }
    for (const [index, t] of spec.transitions.entries()) {
      if (typeof t.sql !== 'string' || t.sql.trim() === '') continue
      const target = resolve(t.to)
      const inputs = t.from.map(resolve)
      if (!target || inputs.some((i) => i === undefined)) continue
      // The tables the engine gives the SQL (engine/types.ts), so that what binds here runs there.
      const columns = (table: ReturnType<typeof stateTable>): ColumnSpec[] => table.columns.map((c) => ({name: c.name, type: c.type}))
      const tables = new Map<string, ColumnSpec[]>()
      for (const input of inputs) {
        const table = stateTable(input!.ref, input!.state, spec.schema)
        if (!tables.has(table.sqlName)) tables.set(table.sqlName, columns(table))
      }
      out.push({
        flow,
        index,
        name: t.name,
        request: {sql: t.sql, tables: [...tables].map(([name, cols]) => ({name, columns: cols})), target: {state: t.to, columns: columns(stateTable(target.ref, target.state, spec.schema))}},
      })
    }
  }
  return out
}

/**
 * `sql`: each transition's SQL parses and binds in DuckDB against empty tables of its from[]
 * states, and its result columns are the target state's fields (names; types where DuckDB can
 * tell). DuckDB is loaded only when some transition is not answered by the cache.
 */
export async function checkSql(ctx: ValidationContext, options: SqlCheckOptions = {}): Promise<SqlCheck> {
  const transitions = sqlTransitions(ctx)
  if (transitions.length === 0) return {findings: [], bound: 0}
  const cache = options.cache === false ? undefined : (options.cache ?? SqlBindCache.load())
  const results: SqlProblem[][] = []
  let binder: SqlBinder | undefined
  let bound = 0
  try {
    for (const t of transitions) {
      const key = cache && cacheKey(t.request)
      let problems = key ? cache.get(key) : undefined
      if (!problems) {
        binder ??= await (options.binder ?? (await import('../sql/binder.js')).SqlBinder.open())
        problems = await binder.bind(t.request)
        bound++
        if (key) cache.set(key, problems)
      }
      results.push(problems)
    }
  } finally {
    if (!options.binder) binder?.close()
  }
  // Saved before the findings are located: locating one may throw PositionsNeeded, and the
  // precise pass that follows should not bind again.
  cache?.save()
  const findings = transitions.flatMap((t, i) =>
    results[i].map((p) =>
      t.flow.source.finding(['spec', 'transitions', t.index, 'sql'], {
        rule: 'sql',
        severity: p.severity,
        kind: t.flow.kind,
        name: t.flow.name,
        message: `transition "${t.name}": ${p.message}`,
      }),
    ),
  )
  return {findings, bound}
}

/**
 * Begins the sql rule before the other rules run, for a project with SQL: reads the cache and,
 * when some transition is not in it, loads DuckDB and starts opening it, which DuckDB does on a
 * thread of libuv's pool while the other rules run on this one (on a first run, opening takes
 * about as long as binding every transition of examples/orders). Which transitions the cache
 * answers is asked as checkSql will ask it, with every resource taken as valid since the schema
 * rule has not run yet; when that guess fails (a broken project), nothing is started and checkSql
 * opens DuckDB itself if it must. The caller closes the binder (closeSqlStart).
 */
export async function startSql(project: Project): Promise<SqlStart | undefined> {
  const hasSql = project.resources.some((r) => {
    const transitions: unknown = r.kind === 'DataFlow' && !r.broken ? (r.object.spec as {transitions?: unknown} | undefined)?.transitions : undefined
    return Array.isArray(transitions) && transitions.some((t) => typeof t?.sql === 'string' && t.sql.trim() !== '')
  })
  if (!hasSql) return undefined
  const cache = SqlBindCache.load()
  let unanswered: boolean
  try {
    const guess = new ValidationContext(project, new Set(project.resources.filter((r) => !r.broken)))
    unanswered = sqlTransitions(guess).some((t) => !cache.get(cacheKey(t.request)))
  } catch {
    unanswered = false
  }
  if (!unanswered) return {cache}
  const {SqlBinder} = await import('../sql/binder.js')
  return {cache, binder: (await SqlBinder.start()).binder}
}

/** Closes the binder startSql began, once it is open (a failure to open was checkSql's to report). */
export function closeSqlStart(start: SqlStart | undefined): void {
  start?.binder?.then(
    (binder) => binder.close(),
    () => {},
  )
}
