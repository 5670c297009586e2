import {UserError} from '../errors.js'
import {loadProject} from '../project/load.js'
import {validateProject} from '../validate/validate.js'
import {type LineageGraph, buildLineage} from './graph.js'

/** How many findings the refusal shows; `dappmesh validate` shows them all. */
const SHOWN = 5

/**
 * The lineage of the product in `dir`. A graph of an invalid project would draw references that
 * resolve to nothing, so an invalid project is refused with its first errors.
 */
export async function lineageOfDirectory(dir: string): Promise<LineageGraph> {
  const {result, context} = validateProject(await loadProject(dir))
  if (!result.valid) {
    const errors = result.findings.filter((f) => f.severity === 'error')
    const lines = errors.slice(0, SHOWN).map((f) => `  ${f.file}:${f.line}:${f.column}  ${f.message}  (${f.rule})`)
    if (errors.length > SHOWN) lines.push(`  … and ${errors.length - SHOWN} more`)
    throw new UserError(`The data product in ${dir} is not valid (${errors.length} error${errors.length === 1 ? '' : 's'}), so its lineage cannot be drawn:\n${lines.join('\n')}`, {
      suggestions: [`Run \`dappmesh validate ${dir}\` to see every finding, fix them, then run lineage again.`],
    })
  }
  return buildLineage(context)
}
