import {NAME_MAX, SUFFIXED_NAME_MAX, childName, runtimeName} from '../../model/child-names.js'
import type {KindName} from '../../model/types.js'
import type {ValidationContext} from '../context.js'
import type {Finding} from '../finding.js'

/** What the operator makes of a resource, by name, and the longest name each may have. */
const DERIVED: Partial<Record<KindName, {what: string; max: number}>> = {
  DataStorage: {what: 'StatefulSet and Service', max: SUFFIXED_NAME_MAX},
  OutputPort: {what: 'Deployment and Service', max: NAME_MAX},
  InputPort: {what: 'Deployment and Service', max: NAME_MAX},
  DataWorkflow: {what: 'CronJob', max: SUFFIXED_NAME_MAX},
}

/** Kinds whose children (Services, and Deployments or StatefulSets) share one name per product: `<product>--<name>`. */
const SERVED: KindName[] = ['DataStorage', 'OutputPort', 'InputPort']

/**
 * `naming`: the names the operator derives in the cluster (`<product>--<name>`) must fit
 * Kubernetes' limits, and a Service's name must start with a letter (DNS-1035). Found here rather
 * than as a failed apply in the operator's status.
 */
export function checkDerivedNames(ctx: ValidationContext): Finding[] {
  const products = ctx.all('DataProduct')
  if (products.length !== 1) return []
  const product = products[0].name
  const out: Finding[] = []
  // Every product has a runtime StatefulSet of its own name.
  const runtime = runtimeName(product)
  if (runtime.length > SUFFIXED_NAME_MAX) {
    out.push(
      products[0].source.finding(['metadata', 'name'], {
        rule: 'naming',
        severity: 'error',
        kind: 'DataProduct',
        name: product,
        message: `the runtime StatefulSet made for DataProduct ${product} is named "${runtime}", which is ${runtime.length} characters, over the ${SUFFIXED_NAME_MAX} Kubernetes allows; shorten the product's name to ${SUFFIXED_NAME_MAX - runtime.length + product.length} characters or fewer`,
      }),
    )
  }
  for (const [kind, {what, max}] of Object.entries(DERIVED) as Array<[KindName, {what: string; max: number}]>) {
    for (const r of ctx.all(kind)) {
      const derived = childName(product, r.name)
      const problem =
        derived.length > max
          ? `is ${derived.length} characters, over the ${max} Kubernetes allows`
          : /^[a-z]/.test(derived)
            ? undefined
            : 'does not start with a letter, which a Service name must'
      if (!problem) continue
      out.push(
        r.source.finding(['metadata', 'name'], {
          rule: 'naming',
          severity: 'error',
          kind: r.kind,
          name: r.name,
          message: `the ${what} made for ${kind} ${r.name} are named "${derived}", which ${problem}; shorten the ${kind}'s or the product's name`,
        }),
      )
    }
  }
  out.push(...sharedChildNames(ctx, product))
  return out
}

/** A storage and a port (or an input and an output port) of one name would need the same Service. */
function sharedChildNames(ctx: ValidationContext, product: string): Finding[] {
  const first = new Map<string, KindName>()
  const out: Finding[] = []
  for (const kind of SERVED) {
    for (const r of ctx.all(kind)) {
      const other = first.get(r.name)
      if (!other) first.set(r.name, kind)
      // Two of one kind are the `duplicate` rule's.
      if (!other || other === kind) continue
      out.push(
        r.source.finding(['metadata', 'name'], {
          rule: 'naming',
          severity: 'error',
          kind: r.kind,
          name: r.name,
          message: `${kind} ${r.name} and ${other} ${r.name} would both need the Service "${childName(product, r.name)}"; rename one of them`,
        }),
      )
    }
  }
  return out
}
