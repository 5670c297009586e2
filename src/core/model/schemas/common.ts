/**
 * Building blocks shared by the kinds' JSON Schemas. Every pattern here is also valid RE2, because
 * the same schemas become CRD openAPIV3Schemas that the API server evaluates with Go's regexp.
 */
export const API_VERSION = 'dappmesh.io/v1alpha1'

export const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
export const IDENTIFIER = '^[A-Za-z_][A-Za-z0-9_-]*$'
export const SEMVER =
  '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$'
export const DURATION = '^([0-9]+(ms|s|m|h|d))+$'
export const QUANTITY = '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$'
/** Names of Kubernetes' own identities and namespaces, refused as DataRole subjects. */
export const SYSTEM_NAME = '^system:'
export const SYSTEM_NAMESPACE = '^kube-'
/** The namespace dappmesh's own operator and catalog live in. */
export const SYSTEM_NAMESPACE_NAME = 'dappmesh-system'
/** Namespaces a domain may not take: Kubernetes' own, the default one, and dappmesh's. */
export const RESERVED_NAMESPACE = `^(kube-.*|default|${SYSTEM_NAMESPACE_NAME})$`
/** `schema@version/state`; the version is a schema version (semver). */
export const STATE_REF = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?@[0-9A-Za-z.+-]+/[A-Za-z_][A-Za-z0-9_-]*$'
/** Inside a DataFlow a state may be bare (the flow's own schema and version) or a full state ref. */
export const FLOW_STATE = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?@[0-9A-Za-z.+-]+/)?[A-Za-z_][A-Za-z0-9_-]*$'

const CRON_ITEM = '(\\*|[0-9]+(-[0-9]+)?|[A-Za-z]{3}(-[A-Za-z]{3})?)(/[0-9]+)?'
const CRON_FIELD = `${CRON_ITEM}(,${CRON_ITEM})*`
/** Five cron fields, or one of the @-macros that CronJob accepts. */
export const CRON = `^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|${CRON_FIELD}( +${CRON_FIELD}){4})$`

export const dnsName = {type: 'string', pattern: DNS_LABEL, maxLength: 63} as const
export const identifier = {type: 'string', pattern: IDENTIFIER, maxLength: 128} as const
export const semver = {type: 'string', pattern: SEMVER, maxLength: 128} as const
export const duration = {type: 'string', pattern: DURATION, maxLength: 32} as const
export const quantity = {type: 'string', pattern: QUANTITY, maxLength: 32} as const
export const stateRef = {type: 'string', pattern: STATE_REF, maxLength: 253} as const
export const cron = {type: 'string', pattern: CRON, maxLength: 256} as const
export const text = {type: 'string', maxLength: 4096} as const
export const image = {type: 'string', minLength: 1, maxLength: 512, pattern: '^[^\\s]+$'} as const

const stringMap = {type: 'object', additionalProperties: {type: 'string'}} as const

/** What every kind's metadata may hold; names are checked by the `naming` rule, not here. */
export const metadata = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: {type: 'string', minLength: 1},
    namespace: {type: 'string'},
    labels: stringMap,
    annotations: stringMap,
  },
} as const

/** Wraps a kind's spec schema in the envelope of apiVersion, kind and metadata. */
export function resourceSchema<const K extends string, const S extends object>(kind: K, spec: S, description: string) {
  return {
    $id: `https://dappmesh.io/schemas/v1alpha1/${kind}.json`,
    title: kind,
    description,
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      apiVersion: {type: 'string', enum: [API_VERSION]},
      kind: {type: 'string', enum: [kind]},
      metadata,
      spec,
      status: {type: 'object'},
    },
  } as const
}
