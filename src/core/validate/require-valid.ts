import {UserError} from '../errors.js'
import {loadProject} from '../project/load.js'
import type {ValidationContext} from './context.js'
import {type ValidationResult, validateProject} from './validate.js'

/** How many findings a refusal shows; `dappmesh validate` shows them all. */
const SHOWN = 5

/**
 * Loads and validates the project in `dir`, refusing (exit 1, first errors listed) when it is
 * invalid: commands that act on a product never act on a broken one.
 */
export async function loadValidProject(dir: string, refusal: string): Promise<{result: ValidationResult; context: ValidationContext}> {
  const validated = validateProject(await loadProject(dir))
  const {result} = validated
  if (!result.valid) {
    const errors = result.findings.filter((f) => f.severity === 'error')
    const lines = errors.slice(0, SHOWN).map((f) => `  ${f.file}:${f.line}:${f.column}  ${f.message}  (${f.rule})`)
    if (errors.length > SHOWN) lines.push(`  … and ${errors.length - SHOWN} more`)
    throw new UserError(`The data product in ${dir} is not valid (${errors.length} error${errors.length === 1 ? '' : 's'}), so ${refusal}:\n${lines.join('\n')}`, {
      suggestions: [`Run \`dappmesh validate ${dir}\` to see every finding, fix them, then try again.`],
    })
  }
  return validated
}
