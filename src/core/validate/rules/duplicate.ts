import type {Project} from '../../project/load.js'
import {type Resource, resourceId} from '../../project/resource.js'
import type {Finding} from '../finding.js'

/** `duplicate`: two resources of one kind with one name; the later one is reported. */
export function checkDuplicates(project: Project): Finding[] {
  const first = new Map<string, Resource>()
  const out: Finding[] = []
  for (const r of project.resources) {
    if (r.name === '' || r.broken) continue
    const id = resourceId(r)
    const earlier = first.get(id)
    if (!earlier) {
      first.set(id, r)
      continue
    }
    const at = earlier.source.locate(['metadata', 'name'])
    out.push(
      r.source.finding(['metadata', 'name'], {
        rule: 'duplicate',
        severity: 'error',
        kind: r.kind,
        name: r.name,
        message: `${id} is already defined at ${earlier.source.file}:${at.line}; rename or remove one of them`,
      }),
    )
  }
  return out
}
