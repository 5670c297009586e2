import type {KindMap, KindName} from '../model/types.js'
import type {SourceDocument} from './source.js'

/** A dappmesh resource read from a project, with the document it came from. */
export interface Resource<K extends KindName = KindName> {
  kind: K
  name: string
  /** The parsed object. Until the `schema` rule passed for it, only its envelope is trustworthy. */
  object: KindMap[K]
  source: SourceDocument
  /**
   * Known only by kind and name: the document did not parse, or has another apiVersion. It counts
   * as defined (so references to it are not reported too) but no rule reads it.
   */
  broken?: boolean
}

export function resourceId(r: {kind: string; name: string}): string {
  return `${r.kind}/${r.name}`
}
