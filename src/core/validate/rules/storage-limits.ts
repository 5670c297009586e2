import {BACKUP_ENGINES, maxReplicas} from '../../model/engine-limits.js'
import type {ValidationContext} from '../context.js'
import type {Finding} from '../finding.js'

/**
 * `storage`: what a DataStorage asks for must be something dappmesh does. More replicas than the
 * engine can replicate would be independent databases behind one Service; a `backup` nobody takes
 * would be a promise broken silently. Both are errors, found before anything is applied.
 */
export function checkStorageLimits(ctx: ValidationContext): Finding[] {
  const out: Finding[] = []
  for (const r of ctx.all('DataStorage')) {
    const {engine, replicas, backup} = r.object.spec ?? {}
    const max = maxReplicas(engine)
    if (typeof replicas === 'number' && replicas > max) {
      out.push(
        r.source.finding(['spec', 'replicas'], {
          rule: 'storage',
          severity: 'error',
          kind: r.kind,
          name: r.name,
          message: `DataStorage "${r.name}" asks for ${replicas} replicas, but dappmesh runs ${engine} as a single node (no replication between pods), so they would be ${replicas} independent databases behind one Service; set replicas to ${max} (or 0 to stop it)`,
        }),
      )
    }
    if (backup !== undefined && !BACKUP_ENGINES.includes(engine)) {
      out.push(
        r.source.finding(['spec', 'backup'], {
          rule: 'storage',
          severity: 'error',
          kind: r.kind,
          name: r.name,
          message: `DataStorage "${r.name}" asks for a backup, which dappmesh does not take for ${engine} yet; remove spec.backup and back the volume up with your platform's tools (volume snapshots), so that no backup is believed to exist`,
        }),
      )
    }
  }
  return out
}
