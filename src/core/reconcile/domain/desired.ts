import type {KubeObject, LimitRange, Namespace, NetworkPolicy, OwnerReference, ResourceQuota, Stored, Typed, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding} from '../../kube/types.js'
import {API_VERSION} from '../../model/kinds.js'
import type {DataDomain, DataMesh} from '../../model/types.js'
import {POD_SECURITY_LABELS} from '../../model/pod-security.js'
import {MANAGED_BY_LABEL} from '../../render/render.js'
import {FIELD_MANAGER} from '../product/desired.js'

export const DOMAIN_LABEL = 'dappmesh.io/domain'
export const QUOTA_NAME = 'dappmesh-quota'
export const DEFAULT_DENY_NAME = 'dappmesh-default-deny'
export const DEFAULTS_NAME = 'dappmesh-defaults'
const ADMISSION = 'admissionregistration.k8s.io/v1'

type Domain = Stored<DataDomain>
type Mesh = Stored<DataMesh>
/** What the domain reconciler applies; all of it owned by the domain but the Namespace. */
type Applied<T extends KubeObject> = Typed<T> & {metadata: {name: string; namespace?: string; labels: Record<string, string>; ownerReferences?: OwnerReference[]}}
export type DomainChild = Applied<NetworkPolicy> | Applied<ResourceQuota> | Applied<LimitRange> | Applied<ValidatingAdmissionPolicy> | Applied<ValidatingAdmissionPolicyBinding>
type Policy = NonNullable<ValidatingAdmissionPolicy['spec']>

export function domainNamespace(domain: Domain): string {
  return domain.spec?.namespace ?? domain.metadata.name
}

/**
 * The domain's Namespace exactly as `dappmesh apply` writes it (same labels, same values), so the
 * two field managers share its fields instead of conflicting. Pod Security `restricted` is
 * enforced there: every pod dappmesh makes meets it. It has no owner: deleting a
 * DataDomain must not delete the products and data in its namespace.
 */
export function desiredNamespace(domain: Domain): Applied<Namespace> {
  return {apiVersion: 'v1', kind: 'Namespace', metadata: {name: domainNamespace(domain), labels: {[DOMAIN_LABEL]: domain.metadata.name, [MANAGED_BY_LABEL]: 'dappmesh', ...POD_SECURITY_LABELS}}}
}

/** The governance rules the API server enforces, one ValidatingAdmissionPolicy each. */
export const GOVERNANCE_RULES = ['requireContracts', 'requireClassificationForPii'] as const
export type GovernanceRule = (typeof GOVERNANCE_RULES)[number]

/** The name of a domain's policy for one rule, and of its binding. */
export function governancePolicyName(domain: Domain, rule: GovernanceRule): string {
  return `dappmesh-${rule === 'requireContracts' ? 'require-contracts' : 'classify-pii'}-${domain.metadata.name}`
}

/** Every pii field without a classification, said as validate says it, joined (CEL has no flatten). */
const UNCLASSIFIED_PII = [
  'object.spec.versions.map(v, v.states.map(s, s.fields',
  '.filter(f, has(f.pii) && f.pii && !has(f.classification))',
  `.map(f, 'field "' + f.name + '" of ' + object.metadata.name + '@' + v.version + '/' + s.name)`,
  ".join(', ')).filter(x, x != '').join(', ')).filter(x, x != '').join(', ')",
].join(' ')

/**
 * The mesh's governance rules in CEL, with the messages of `dappmesh validate`'s governance rule
 * (src/core/validate/rules/governance.ts), so the cluster refuses what validate reports. One
 * policy per rule, because the API server type-checks each expression against every kind its
 * policy matches (an OutputPort has no fields, a DataSchema no contract).
 */
const RULES: Record<GovernanceRule, {resource: string; variables: NonNullable<Policy['variables']>; validation: NonNullable<Policy['validations']>[number]}> = {
  requireContracts: {
    resource: 'outputports',
    variables: [],
    validation: {
      expression: 'has(object.spec.contract)',
      message: 'output port has no contract, and the mesh requires one (governance.requireContracts); add spec.contract naming a DataContract',
      reason: 'Invalid',
    },
  },
  requireClassificationForPii: {
    resource: 'dataschemas',
    variables: [{name: 'unclassifiedPii', expression: UNCLASSIFIED_PII}],
    validation: {
      expression: "variables.unclassifiedPii == ''",
      messageExpression: "variables.unclassifiedPii + ' is pii but has no classification (governance.requireClassificationForPii); add classification: confidential or restricted'",
      reason: 'Invalid',
    },
  },
}

/** The rules a mesh turns on; the schema's defaults (every rule on) hold where it says nothing. */
export function governanceRules(mesh: Mesh | undefined): GovernanceRule[] {
  const governance = {requireContracts: true, requireClassificationForPii: true, ...mesh?.spec?.governance}
  return GOVERNANCE_RULES.filter((rule) => governance[rule])
}

/**
 * The mesh's governance enforced by the API server in the domain's namespace: per rule a
 * ValidatingAdmissionPolicy (CEL) and its binding, selected by the namespace's name label. None
 * when the mesh is unknown.
 */
export function desiredGovernancePolicies(domain: Domain, mesh: Mesh | undefined): DomainChild[] {
  if (!mesh) return []
  const [group, version] = API_VERSION.split('/')
  return governanceRules(mesh).flatMap((rule) => {
    const name = governancePolicyName(domain, rule)
    const metadata = {name, labels: {...domainLabels(domain), 'dappmesh.io/governance': rule}, ownerReferences: [domainOwner(domain)]}
    const {resource, variables, validation} = RULES[rule]
    return [
      {
        apiVersion: ADMISSION,
        kind: 'ValidatingAdmissionPolicy',
        metadata,
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {resourceRules: [{apiGroups: [group], apiVersions: [version], operations: ['CREATE', 'UPDATE'], resources: [resource]}]},
          // An object on its way out is let go even if it breaks a rule made after it was created.
          matchConditions: [{name: 'not-deleting', expression: '!has(object.metadata.deletionTimestamp)'}],
          ...(variables.length > 0 ? {variables} : {}),
          validations: [validation],
        },
      },
      {
        apiVersion: ADMISSION,
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata,
        spec: {
          policyName: name,
          validationActions: ['Deny'],
          matchResources: {namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': domainNamespace(domain)}}},
        },
      },
    ]
  })
}

function domainLabels(domain: Domain): Record<string, string> {
  return {[DOMAIN_LABEL]: domain.metadata.name, [MANAGED_BY_LABEL]: FIELD_MANAGER}
}

function domainOwner(domain: Domain): OwnerReference {
  // A stored object always has its uid.
  return {apiVersion: API_VERSION, kind: 'DataDomain', name: domain.metadata.name, uid: domain.metadata.uid!, controller: true, blockOwnerDeletion: true}
}

/**
 * The domain's own objects, owned by the (cluster-scoped) DataDomain: in its namespace a
 * default-deny NetworkPolicy and the quota; cluster-wide the governance admission policies.
 */
export function desiredDomainChildren(domain: Domain, mesh?: Mesh): DomainChild[] {
  const namespace = domainNamespace(domain)
  const metadata = (name: string) => ({name, namespace, labels: domainLabels(domain), ownerReferences: [domainOwner(domain)]})
  const children: DomainChild[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(DEFAULT_DENY_NAME),
      // Every pod of the domain refuses ingress unless a product's own policy admits it.
      spec: {podSelector: {}, policyTypes: ['Ingress']},
    },
  ]
  const quota = domain.spec?.quota
  if (quota && (quota.cpu || quota.memory || quota.storage)) {
    const hard: Record<string, string> = {}
    if (quota.cpu) hard['requests.cpu'] = String(quota.cpu)
    if (quota.memory) hard['requests.memory'] = String(quota.memory)
    if (quota.storage) hard['requests.storage'] = String(quota.storage)
    children.push({apiVersion: 'v1', kind: 'ResourceQuota', metadata: metadata(QUOTA_NAME), spec: {hard}})
    // A quota on requests refuses pods that state none: give those a modest default instead.
    children.push({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: metadata(DEFAULTS_NAME),
      spec: {limits: [{type: 'Container', defaultRequest: {cpu: '100m', memory: '128Mi'}}]},
    })
  }
  children.push(...desiredGovernancePolicies(domain, mesh))
  return children
}
