import {CRON, DNS_LABEL, DURATION, FLOW_STATE, IDENTIFIER, QUANTITY, SEMVER, STATE_REF, SYSTEM_NAME, SYSTEM_NAMESPACE, RESERVED_NAMESPACE} from '../model/schemas/common.js'
import type {ErrorObject} from './ajv.js'
import {DATE, DATE_TIME, RELATIONSHIP_REF, SFTP_URI, STABLE_ID, URI} from './odcs/common.js'
import {fromPointer} from './finding.js'

const PATTERNS: Record<string, string> = {
  [DNS_LABEL]: 'a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)',
  [IDENTIFIER]: 'an identifier (letters, digits, "_" and "-", not starting with a digit)',
  [SEMVER]: 'a semantic version such as 1.2.0',
  [DURATION]: 'a duration such as 30s, 10m, 1h or 7d',
  [QUANTITY]: 'a Kubernetes quantity such as 500m, 1Gi or 10G',
  [STATE_REF]: 'a state reference schema@version/state, such as orders@1.0.0/raw',
  [FLOW_STATE]: 'a state name, or a state reference schema@version/state',
  [CRON]: 'a 5-field cron expression such as "0 * * * *", or @hourly/@daily/...',
  [DATE_TIME]: 'an RFC 3339 date-time with a time zone, such as 2024-09-17T11:58:08Z',
  [DATE]: 'a date such as 2024-09-17',
  [URI]: 'a URI with a scheme and no spaces, such as s3://bucket/path/ or https://example.com/api',
  [SFTP_URI]: 'an sftp:// URI without spaces, such as sftp://host/path/*.csv',
  [STABLE_ID]: 'an id of letters, digits, "_" and "-"',
  [RELATIONSHIP_REF]: 'a reference such as orders.customer_id, or a path such as schema/orders/properties/customer_id',
}

export const RESERVED_NAMESPACE_FIX = 'must not be a reserved namespace (kube-*, default, dappmesh-system): a domain\'s products would share it with the cluster\'s own workloads; name a namespace of the domain\'s own'

/** What a `not: {pattern}` refuses, said as a fix. */
const REFUSED_PATTERNS: Record<string, string> = {
  [SYSTEM_NAME]: 'must not start with "system:" (Kubernetes\' own users and groups); grant a user, group or ServiceAccount of your own',
  [RESERVED_NAMESPACE]: RESERVED_NAMESPACE_FIX,
  [SYSTEM_NAMESPACE]: 'must not be a Kubernetes system namespace (kube-*); grant a ServiceAccount of your own namespace',
}

export interface DescribedError {
  segments: string[]
  /** Point at the key rather than the value (unknown fields). */
  key: boolean
  message: string
}

/** Turns ajv's errors into messages that say what is wrong and how to fix it, one per problem. */
export function describeErrors(errors: ErrorObject[]): DescribedError[] {
  const out: DescribedError[] = []
  // Errors raised inside a oneOf/if branch are reported once, by the branch's summary below.
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath))
  for (const e of errors) {
    const segments = fromPointer(e.instancePath)
    const where = segments.length > 0 ? segments.join('.') : 'the document'
    if (e.keyword === 'if') continue
    if (e.schemaPath.includes('/oneOf/') && oneOfPaths.has(e.instancePath)) continue
    switch (e.keyword) {
      case 'required': {
        const field = (e.params as {missingProperty: string}).missingProperty
        out.push({segments, key: false, message: `missing required field "${[...segments, field].join('.')}"; add it`})
        break
      }
      case 'additionalProperties': {
        const field = (e.params as {additionalProperty: string}).additionalProperty
        const allowed = Object.keys((e.parentSchema as {properties?: Record<string, unknown>} | undefined)?.properties ?? {})
        out.push({
          segments: [...segments, field],
          key: true,
          message: `unknown field "${[...segments, field].join('.')}"; remove it or fix its spelling${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`,
        })
        break
      }
      case 'enum': {
        const allowed = (e.params as {allowedValues: unknown[]}).allowedValues
        out.push({segments, key: false, message: `${where} must be one of: ${allowed.map(String).join(', ')}`})
        break
      }
      case 'pattern': {
        const pattern = (e.params as {pattern: string}).pattern
        out.push({segments, key: false, message: `${where} must be ${PATTERNS[pattern] ?? `a string matching ${pattern}`}`})
        break
      }
      case 'type':
        out.push({segments, key: false, message: `${where} must be ${article((e.params as {type: string}).type)}`})
        break
      case 'oneOf': {
        const names = ((e.schema as Array<{required?: string[]}>) ?? []).flatMap((s) => s.required ?? [])
        out.push({segments, key: false, message: `${where} must have exactly one of: ${names.join(', ')}`})
        break
      }
      case 'not': {
        const pattern = (e.schema as {pattern?: string})?.pattern
        out.push({segments, key: false, message: `${where} ${(pattern && REFUSED_PATTERNS[pattern]) ?? 'is not allowed here'}`})
        break
      }
      case 'maxProperties': {
        const limit = (e.params as {limit: number}).limit
        out.push({segments, key: false, message: limit === 0 ? `${where} must be empty here` : `${where} must have at most ${limit} field(s)`})
        break
      }
      case 'minItems':
        out.push({segments, key: false, message: `${where} must have at least ${(e.params as {limit: number}).limit} item(s)`})
        break
      default:
        out.push({segments, key: false, message: `${where} ${e.message ?? 'is invalid'}`})
    }
  }
  return out
}

function article(type: string): string {
  if (type.includes(',')) return `one of the types ${type}`
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`
}
