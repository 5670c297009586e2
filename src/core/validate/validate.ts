import {type Project, loadProject} from '../project/load.js'
import type {Resource} from '../project/resource.js'
import {PositionsNeeded} from '../project/source.js'
import {ValidationContext} from './context.js'
import {type Finding, compareFindings} from './finding.js'
import {checkBreaking, checkBreakingAgainst} from './rules/breaking.js'
import {checkContracts} from './rules/contract.js'
import {checkCycles} from './rules/cycle.js'
import {checkDerivedNames} from './rules/derived-names.js'
import {checkDuplicates} from './rules/duplicate.js'
import {checkGovernance} from './rules/governance.js'
import {checkNaming} from './rules/naming.js'
import {checkOneProduct} from './rules/product.js'
import {checkRefs} from './rules/ref.js'
import {checkSchema} from './rules/schema.js'
import {checkSql, closeSqlStart, startSql} from './rules/sql.js'
import {checkStorageDrivers} from './rules/storage.js'
import {checkStorageLimits} from './rules/storage-limits.js'

export interface ValidationResult {
  valid: boolean
  root: string
  files: number
  resources: number
  errors: number
  warnings: number
  /** YAML documents left out because they are not dappmesh's (a CI workflow, a compose file, ...). */
  skipped: number
  findings: Finding[]
}

/** Runs every rule over a loaded project; `previous` enables the `--against` comparison. */
export function validateProject(project: Project, previous?: Project): {result: ValidationResult; context: ValidationContext} {
  const findings: Finding[] = [...project.findings]
  const valid = new Set<Resource>()
  for (const r of project.resources) {
    if (r.broken) continue
    const problems = checkSchema(r)
    findings.push(...problems, ...checkNaming(r))
    if (problems.length === 0) valid.add(r)
  }
  findings.push(...checkDuplicates(project), ...checkOneProduct(project))
  const context = new ValidationContext(project, valid)
  findings.push(...checkRefs(context), ...checkDerivedNames(context), ...checkCycles(context), ...checkContracts(context), ...checkBreaking(context), ...checkGovernance(context), ...checkStorageDrivers(context), ...checkStorageLimits(context))
  if (previous) {
    const before = validateProject(previous).context
    findings.push(...checkBreakingAgainst(context, before))
  }
  return {context, result: summarize(project, findings)}
}

function summarize(project: Project, findings: Finding[]): ValidationResult {
  findings.sort(compareFindings)
  const errors = findings.filter((f) => f.severity === 'error').length
  const files = new Set([...project.resources.map((r) => r.source.file), ...findings.map((f) => f.file)]).size
  return {valid: errors === 0, root: project.root, files, resources: project.resources.length, errors, warnings: findings.length - errors, skipped: project.skipped, findings}
}

/**
 * Every rule, the `sql` rule included: it binds each transition's SQL in DuckDB, which is
 * asynchronous and loaded only for a project with SQL (see rules/sql.ts).
 */
export async function validateProjectWithSql(project: Project, previous?: Project): Promise<{result: ValidationResult; context: ValidationContext}> {
  // DuckDB opens on another thread while the other rules run (see startSql).
  const sql = await startSql(project)
  try {
    const validated = validateProject(project, previous)
    const {findings} = await checkSql(validated.context, sql ?? {})
    if (findings.length === 0) return validated
    return {context: validated.context, result: summarize(project, [...validated.result.findings, ...findings])}
  } finally {
    closeSqlStart(sql)
  }
}

export interface ValidateOptions {
  /** An earlier copy of the project, for the `--against` comparison. */
  against?: Project
  /**
   * Read with source positions from the start, skipping the fast path. Also forced by
   * DAPPMESH_VALIDATE_PRECISE=1. The result is the same either way; only the time differs.
   */
  precise?: boolean
}

/**
 * Validates the project in `dir`. Most projects are valid, so it first reads them without
 * source positions (several times faster); the first finding, or anything unusual in a file,
 * abandons that attempt and the project is read and validated again with positions, so that every
 * finding is exactly as precise as from the start.
 */
export async function validateDirectory(dir: string, options: ValidateOptions = {}): Promise<ValidationResult> {
  if (!options.precise && process.env.DAPPMESH_VALIDATE_PRECISE !== '1') {
    const fast = await validateWithoutPositions(dir, options.against).catch(() => undefined)
    if (fast) return fast
  }
  return (await validateProjectWithSql(await loadProject(dir), options.against)).result
}

/**
 * The fast attempt: the result when the project has no findings at all, else undefined. Throws
 * what is not `PositionsNeeded` (the caller falls back on any error: the precise path is the
 * reference, and reports a user's error as it always has).
 */
export async function validateWithoutPositions(dir: string, against?: Project): Promise<ValidationResult | undefined> {
  try {
    const {result} = await validateProjectWithSql(await loadProject(dir, {positions: false}), against)
    // Every finding asks its document for a position, which throws; this is the belt to those braces.
    return result.findings.length === 0 ? result : undefined
  } catch (error) {
    if (error instanceof PositionsNeeded) return undefined
    throw error
  }
}
