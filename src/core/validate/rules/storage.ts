import {flowStorage} from '../../engine/plan.js'
import {DRIVER_ENGINES} from '../../storage/registry.js'
import type {ValidationContext} from '../context.js'
import type {Finding} from '../finding.js'

/**
 * `storage`: a flow whose states would live in an engine with no driver yet (§7) is a warning,
 * not an error: the model is valid and deploys, but `dappmesh run` refuses that flow (exit 2).
 */
export function checkStorageDrivers(ctx: ValidationContext): Finding[] {
  const out: Finding[] = []
  for (const r of ctx.all('DataFlow')) {
    const storage = flowStorage(ctx, r.object)
    if (DRIVER_ENGINES.includes(storage.engine)) continue
    const supported = DRIVER_ENGINES.join(', ')
    const at = r.object.spec.storage === undefined ? ['metadata', 'name'] : ['spec', 'storage']
    out.push(
      r.source.finding(at, {
        rule: 'storage',
        severity: 'warning',
        kind: r.kind,
        name: r.name,
        message: `the states of DataFlow "${r.name}" live in DataStorage "${storage.name}" (engine ${storage.engine}), which has no driver yet, so dappmesh run refuses this flow; set spec.storage to a storage whose engine has one (${supported})`,
      }),
    )
  }
  return out
}
