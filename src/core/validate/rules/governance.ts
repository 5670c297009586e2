import type {ValidationContext} from '../context.js'
import type {Finding} from '../finding.js'

/** `governance`: the mesh's policies (contracts on output ports, classification of pii). */
export function checkGovernance(ctx: ValidationContext): Finding[] {
  const out: Finding[] = []
  const policy = ctx.governance
  if (policy.requireContracts) {
    for (const r of ctx.all('OutputPort')) {
      if (r.object.spec.contract !== undefined) continue
      out.push(
        r.source.finding(['spec'], {
          rule: 'governance',
          severity: 'error',
          kind: r.kind,
          name: r.name,
          message: 'output port has no contract, and the mesh requires one (governance.requireContracts); add spec.contract naming a DataContract',
        }),
      )
    }
  }
  if (policy.requireClassificationForPii) {
    for (const r of ctx.all('DataSchema')) {
      for (const [v, version] of r.object.spec.versions.entries()) {
        for (const [s, state] of version.states.entries()) {
          for (const [f, field] of state.fields.entries()) {
            if (!field.pii || field.classification !== undefined) continue
            out.push(
              r.source.finding(['spec', 'versions', v, 'states', s, 'fields', f], {
                rule: 'governance',
                severity: 'error',
                kind: r.kind,
                name: r.name,
                message: `field "${field.name}" of ${r.name}@${version.version}/${state.name} is pii but has no classification (governance.requireClassificationForPii); add classification: confidential or restricted`,
              }),
            )
          }
        }
      }
    }
  }
  return out
}
