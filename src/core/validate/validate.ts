import {type Project, loadProject} from '../project/load.js'
import type {Resource} from '../project/resource.js'
import {ValidationContext} from './context.js'
import {type Finding, compareFindings} from './finding.js'
import {checkBreaking, checkBreakingAgainst} from './rules/breaking.js'
import {checkContracts} from './rules/contract.js'
import {checkCycles} from './rules/cycle.js'
import {checkDuplicates} from './rules/duplicate.js'
import {checkGovernance} from './rules/governance.js'
import {checkNaming} from './rules/naming.js'
import {checkRefs} from './rules/ref.js'
import {checkSchema} from './rules/schema.js'

export interface ValidationResult {
  valid: boolean
  root: string
  files: number
  resources: number
  errors: number
  warnings: number
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
  findings.push(...checkDuplicates(project))
  const context = new ValidationContext(project, valid)
  findings.push(...checkRefs(context), ...checkCycles(context), ...checkContracts(context), ...checkBreaking(context), ...checkGovernance(context))
  if (previous) {
    const before = validateProject(previous).context
    findings.push(...checkBreakingAgainst(context, before))
  }
  findings.sort(compareFindings)
  const errors = findings.filter((f) => f.severity === 'error').length
  const files = new Set([...project.resources.map((r) => r.source.file), ...findings.map((f) => f.file)]).size
  return {
    context,
    result: {valid: errors === 0, root: project.root, files, resources: project.resources.length, errors, warnings: findings.length - errors, findings},
  }
}

export async function validateDirectory(dir: string, options: {against?: Project} = {}): Promise<ValidationResult> {
  return validateProject(await loadProject(dir), options.against).result
}
