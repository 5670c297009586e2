import {UserError} from '../errors.js'
import {loadProject} from '../project/load.js'
import {PositionsNeeded} from '../project/source.js'
import type {ValidationContext} from './context.js'
import {type ValidationResult, validateProject} from './validate.js'

/** How many findings a refusal shows; `dappmesh validate` shows them all. */
const SHOWN = 5

/**
 * Loads and validates the project in `dir`, refusing (exit 1, first errors listed) when it is
 * invalid: commands that act on a product never act on a broken one.
 */
export async function loadValidProject(dir: string, refusal: string, options: {positions?: boolean} = {}): Promise<{result: ValidationResult; context: ValidationContext}> {
  const fast = options.positions === false ? await validWithoutPositions(dir).catch(() => undefined) : undefined
  const validated = fast ?? validateProject(await loadProject(dir))
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

/**
 * For a caller that never asks a document for a position (render): a valid project read without
 * positions, several times faster and with a fraction of the memory of `yaml`'s document trees;
 * undefined on any finding, and the caller reads it again with positions so that its refusal is
 * as precise as ever.
 */
async function validWithoutPositions(dir: string): Promise<{result: ValidationResult; context: ValidationContext} | undefined> {
  try {
    const validated = validateProject(await loadProject(dir, {positions: false}))
    return validated.result.findings.length === 0 ? validated : undefined
  } catch (error) {
    if (error instanceof PositionsNeeded) return undefined
    throw error
  }
}
