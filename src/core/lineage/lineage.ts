import {loadValidProject} from '../validate/require-valid.js'
import {type LineageGraph, buildLineage} from './graph.js'

/**
 * The lineage of the product in `dir`. A graph of an invalid project would draw references that
 * resolve to nothing, so an invalid project is refused with its first errors.
 */
export async function lineageOfDirectory(dir: string): Promise<LineageGraph> {
  const {context} = await loadValidProject(dir, 'its lineage cannot be drawn')
  return buildLineage(context)
}
