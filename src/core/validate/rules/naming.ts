import {PRODUCT_SEPARATOR} from '../../model/child-names.js'
import {DNS_LABEL, RESERVED_NAMESPACE} from '../../model/schemas/common.js'
import type {Resource} from '../../project/resource.js'
import {RESERVED_NAMESPACE_FIX} from '../describe-error.js'
import type {Finding} from '../finding.js'

const LABEL = new RegExp(DNS_LABEL)
const RESERVED = new RegExp(RESERVED_NAMESPACE)

/** `naming`: metadata.name (and namespace, when set) must be a DNS-1123 label. */
export function checkNaming(resource: Resource): Finding[] {
  const out: Finding[] = []
  // Before the schema rule passed, metadata may hold anything: each field is checked.
  const metadata = (resource.object as {metadata?: {name?: unknown; namespace?: unknown}}).metadata
  for (const field of ['name', 'namespace'] as const) {
    const value = metadata?.[field]
    if (typeof value !== 'string' || value === '') continue
    if (value.length <= 63 && LABEL.test(value)) continue
    out.push(
      resource.source.finding(['metadata', field], {
        rule: 'naming',
        severity: 'error',
        kind: resource.kind,
        name: resource.name,
        message: `metadata.${field} "${value}" is not a DNS-1123 label; use at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit (e.g. "${suggestLabel(value)}")`,
      }),
    )
  }
  // The operator names a product's children `<product>--<name>` in a namespace every product of the
  // domain shares: a product name holding `--` could meet another product's children (model/child-names.ts).
  if (resource.kind === 'DataProduct' && typeof metadata?.name === 'string' && metadata.name.includes(PRODUCT_SEPARATOR)) {
    out.push(
      resource.source.finding(['metadata', 'name'], {
        rule: 'naming',
        severity: 'error',
        kind: resource.kind,
        name: resource.name,
        message: `DataProduct name "${metadata.name}" holds "${PRODUCT_SEPARATOR}", which separates a product's name from its parts' in the cluster; use single hyphens (e.g. "${metadata.name.replaceAll(/-+/g, '-')}")`,
      }),
    )
  }
  // A domain without spec.namespace takes its own name as namespace (spec.namespace itself is the schema's).
  if (resource.kind === 'DataDomain' && typeof metadata?.name === 'string' && metadata.name && (resource.object as {spec?: {namespace?: unknown}}).spec?.namespace === undefined && RESERVED.test(metadata.name)) {
    out.push(
      resource.source.finding(['metadata', 'name'], {
        rule: 'naming',
        severity: 'error',
        kind: resource.kind,
        name: resource.name,
        message: `DataDomain "${metadata.name}" would use the namespace of its name, which ${RESERVED_NAMESPACE_FIX.replace('must not be', 'is')} (set spec.namespace, or rename the domain)`,
      }),
    )
  }
  return out
}

export function suggestLabel(value: string): string {
  const s = value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '')
  return s || 'my-name'
}
