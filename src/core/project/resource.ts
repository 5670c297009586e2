import type {KindMap, KindName} from '../model/types.js'
import type {SourceDocument} from './source.js'

/** A dappmesh resource read from a project, with the document it came from. */
export interface Resource<K extends KindName = KindName> {
  kind: K
  name: string
  /** The parsed object. Until the `schema` rule passed for it, only its envelope is trustworthy. */
  object: KindMap[K]
  source: SourceDocument
}

export function resourceId(r: {kind: string; name: string}): string {
  return `${r.kind}/${r.name}`
}
