import {createHash} from 'node:crypto'

import type {ObjectMeta, Typed, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding} from '../kube/types.js'
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

/**
 * Per permission a grant can hand out (by API group, resource and verb), the grants that hand it
 * out, as a CEL condition on a grant `g`.
 */
function permissionsInUse(): Array<{permission: GrantPermission; condition: string}> {
  const byPermission = new Map<string, {permission: GrantPermission; conditions: string[]}>()
  for (const target of Object.keys(GRANT_PERMISSIONS) as GrantTarget[]) {
    for (const [access, permissions] of Object.entries(GRANT_PERMISSIONS[target])) {
      for (const permission of permissions) {
        const key = `${permission.apiGroup}/${permission.resource}/${permission.verb}`
        const entry = byPermission.get(key) ?? {permission, conditions: []}
        entry.conditions.push(`(has(g.${target}) && g.access == '${access}')`)
        byPermission.set(key, entry)
      }
    }
  }
  return [...byPermission.values()].map(({permission, conditions}) => ({permission, condition: conditions.join(' || ')}))
}

/**
 * One validation per permission, each asking the authorizer once: an authorizer check is costly
 * in CEL (the API server caps each expression's cost, and a check per grant and child would pass
 * it with a handful of grants). So the author must hold each verb on the whole resource type in
 * the namespace, not only on the product's children by name: stricter than the Role, never looser.
 */
function grantValidations(): Array<{expression: string; messageExpression: string; reason: string}> {
  return permissionsInUse().map(({permission, condition}) => {
    const what = `${permission.verb} ${permission.resource}${permission.apiGroup ? `.${permission.apiGroup}` : ''}`
    return {
      expression: `!object.spec.grants.exists(g, ${condition}) || authorizer.group('${permission.apiGroup}').resource('${permission.resource}').namespace(object.metadata.namespace).check('${permission.verb}').allowed()`,
      messageExpression: `'DataRole ' + object.metadata.name + ' grants what its author may not do: ${what} in namespace ' + object.metadata.namespace + '; a DataRole may grant only what its author could grant: ask for these rights, or have someone who holds them apply the role'`,
      reason: 'Forbidden',
    }
  })
}

const SYSTEM_SUBJECT = "s.name.startsWith('system:') || (has(s.namespace) && s.namespace.startsWith('kube-'))"

function withHash<T extends {metadata: {annotations?: Record<string, string>}}>(object: T): T {
  const hash = createHash('sha256').update(JSON.stringify(object)).digest('hex').slice(0, 16)
  return {...object, metadata: {...object.metadata, annotations: {...object.metadata.annotations, [SCHEMA_HASH_ANNOTATION]: hash}}}
}

/** The policy and its binding (every namespace), each with a hash annotation to tell when they are current. */
export type AdmissionObject = (Typed<ValidatingAdmissionPolicy> | Typed<ValidatingAdmissionPolicyBinding>) & {metadata: ObjectMeta & {annotations: Record<string, string>}}

export function generateAdmissionPolicies(): AdmissionObject[] {
  const labels = {'app.kubernetes.io/part-of': 'dappmesh', 'app.kubernetes.io/managed-by': 'dappmesh'}
  const policy = withHash<AdmissionObject>({
    apiVersion: ADMISSION,
    kind: 'ValidatingAdmissionPolicy',
    metadata: {name: GRANT_POLICY_NAME, labels, annotations: {}},
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {resourceRules: [{apiGroups: [GROUP], apiVersions: [VERSION], operations: ['CREATE', 'UPDATE'], resources: ['dataroles']}]},
      // A role on its way out is let go (its finalizers may still be edited).
      matchConditions: [{name: 'not-deleting', expression: '!has(object.metadata.deletionTimestamp)'}],
      variables: [
        {name: 'systemSubjects', expression: `object.spec.subjects.filter(s, ${SYSTEM_SUBJECT}).map(s, s.kind + ' ' + (has(s.namespace) ? s.namespace + '/' : '') + s.name).join(', ')`},
      ],
      validations: [
        {
          expression: "variables.systemSubjects == ''",
          messageExpression:
            "'DataRole ' + object.metadata.name + ' names Kubernetes system identities as subjects (' + variables.systemSubjects + '); grant users, groups or ServiceAccounts of your own instead'",
          reason: 'Forbidden',
        },
        ...grantValidations(),
      ],
    },
  })
  const binding = withHash<AdmissionObject>({
    apiVersion: ADMISSION,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: {name: GRANT_POLICY_NAME, labels, annotations: {}},
    spec: {policyName: GRANT_POLICY_NAME, validationActions: ['Deny']},
  })
  return [policy, binding]
}
