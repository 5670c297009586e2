import {createHash} from 'node:crypto'

import {GROUP, VERSION} from '../model/kinds.js'
import {GRANT_PERMISSIONS, type GrantPermission, type GrantTarget} from '../model/grants.js'
import {SCHEMA_HASH_ANNOTATION} from './generate.js'

/**
 * The cluster's half of "a DataRole may grant only what its author could grant": a
 * ValidatingAdmissionPolicy on DataRole create and update that asks the API server's authorizer
 * (CEL's `authorizer`), for the requesting user, every permission the operator's Role would hand
 * out. This is Kubernetes' own RBAC escalation rule, applied one step earlier: the operator, which
 * holds far more rights than an author, writes the Role, so the API server's check on the Role
 * would only ever see the operator. Installed with the CRDs, cluster-wide.
 */
export const GRANT_POLICY_NAME = 'dappmesh-datarole-grants'
const ADMISSION = 'admissionregistration.k8s.io/v1'
const PRODUCT_LABEL = 'dappmesh.io/product'

/**
 * The name of a grant's child in CEL, as src/core/reconcile/product/desired.ts names it
 * (childName: `<product>-<name>`; the contract's ConfigMap `<product>-<port>-contract`).
 */
function childNameCel(target: GrantTarget, permission: GrantPermission): string {
  const base = `variables.product + '-' + g.${target}`
  return permission.child === 'contract' ? `${base} + '-contract'` : base
}

/** For one grant `g`: each permission its author lacks, as `verb resource/name`, or ''. */
function deniedOfGrant(): string {
  const checks: string[] = []
  for (const target of Object.keys(GRANT_PERMISSIONS) as GrantTarget[]) {
    const byAccess = GRANT_PERMISSIONS[target]
    const seen = new Map<string, {permission: GrantPermission; access: string[]}>()
    for (const [access, permissions] of Object.entries(byAccess)) {
      for (const permission of permissions) {
        const key = `${permission.apiGroup}/${permission.resource}/${permission.child}/${permission.verb}`
        const entry = seen.get(key) ?? {permission, access: []}
        entry.access.push(access)
        seen.set(key, entry)
      }
    }
    for (const {permission, access} of seen.values()) {
      const name = childNameCel(target, permission)
      const applies = `has(g.${target}) && g.access in [${access.map((a) => `'${a}'`).join(', ')}]`
      const allowed = `authorizer.group('${permission.apiGroup}').resource('${permission.resource}').namespace(object.metadata.namespace).name(${name}).check('${permission.verb}').allowed()`
      checks.push(`(${applies} && !${allowed}) ? '${permission.verb} ${permission.resource}/' + ${name} : ''`)
    }
  }
  return `[${checks.join(', ')}].filter(x, x != '').join(', ')`
}

const SYSTEM_SUBJECT = "s.name.startsWith('system:') || (has(s.namespace) && s.namespace.startsWith('kube-'))"

function withHash<T extends {metadata: {annotations?: Record<string, string>}}>(object: T): T {
  const hash = createHash('sha256').update(JSON.stringify(object)).digest('hex').slice(0, 16)
  return {...object, metadata: {...object.metadata, annotations: {...object.metadata.annotations, [SCHEMA_HASH_ANNOTATION]: hash}}}
}

/** The policy and its binding (every namespace), each with a hash annotation to tell when they are current. */
export function generateAdmissionPolicies(): Array<Record<string, any>> {
  const labels = {'app.kubernetes.io/part-of': 'dappmesh', 'app.kubernetes.io/managed-by': 'dappmesh'}
  const policy = withHash({
    apiVersion: ADMISSION,
    kind: 'ValidatingAdmissionPolicy',
    metadata: {name: GRANT_POLICY_NAME, labels, annotations: {}},
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {resourceRules: [{apiGroups: [GROUP], apiVersions: [VERSION], operations: ['CREATE', 'UPDATE'], resources: ['dataroles']}]},
      // A role on its way out is let go (its finalizers may still be edited).
      matchConditions: [{name: 'not-deleting', expression: '!has(object.metadata.deletionTimestamp)'}],
      variables: [
        {name: 'product', expression: `has(object.metadata.labels) && '${PRODUCT_LABEL}' in object.metadata.labels ? object.metadata.labels['${PRODUCT_LABEL}'] : ''`},
        {name: 'systemSubjects', expression: `object.spec.subjects.filter(s, ${SYSTEM_SUBJECT}).map(s, s.kind + ' ' + (has(s.namespace) ? s.namespace + '/' : '') + s.name).join(', ')`},
        {name: 'denied', expression: `object.spec.grants.map(g, ${deniedOfGrant()}).filter(x, x != '').join(', ')`},
      ],
      validations: [
        {
          expression: "variables.systemSubjects == ''",
          messageExpression:
            "'DataRole ' + object.metadata.name + ' names Kubernetes system identities as subjects (' + variables.systemSubjects + '); grant users, groups or ServiceAccounts of your own instead'",
          reason: 'Forbidden',
        },
        {
          expression: "variables.denied == ''",
          messageExpression:
            "'DataRole ' + object.metadata.name + ' grants what its author may not do: ' + variables.denied + ' in namespace ' + object.metadata.namespace + '; a DataRole may grant only what its author could grant: ask for these rights, or have someone who holds them apply the role'",
          reason: 'Forbidden',
        },
      ],
    },
  })
  const binding = withHash({
    apiVersion: ADMISSION,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: {name: GRANT_POLICY_NAME, labels, annotations: {}},
    spec: {policyName: GRANT_POLICY_NAME, validationActions: ['Deny']},
  })
  return [policy, binding]
}
