import type {ClusterRole, ClusterRoleBinding, Deployment, Namespace, PolicyRule, Role, RoleBinding, ServiceAccount, Typed} from '../kube/types.js'
import {KINDS, GROUP} from '../model/kinds.js'
import {OPERATOR_ENV} from '../reconcile/footprint.js'
import {CATALOG_NAME} from '../reconcile/mesh/catalog.js'
import {SHARD_NAMES} from '../reconcile/mesh/catalog-shards.js'
import {MANAGED_BY_LABEL, PART_OF_LABEL} from '../render/render.js'

export const OPERATOR_NAMESPACE = 'dappmesh-system'
export const OPERATOR_NAME = 'dappmesh-operator'
export const HEALTH_PORT = 8081
/** Role and RoleBinding in dappmesh-system that let every ServiceAccount read the catalog (runtimes locate other products' ports through it). */
export const CATALOG_READER = 'dappmesh-catalog-reader'
/** The name of the one dappmesh image (operator and product runtime, built from the repository's Containerfile), without its tag. */
export const IMAGE_NAME = 'dappmesh'

/**
 * The image `operator install` deploys and the operator gives every product's runtime unless
 * told otherwise (--image, --runtime-image or DAPPMESH_RUNTIME_IMAGE): what
 * `buildah bud -t dappmesh:<version> .` makes of the repository.
 */
export function defaultImage(version: string): string {
  return `${IMAGE_NAME}:${version}`
}

/** The field manager of `operator install`; the operator itself writes as dappmesh-operator. */
export const INSTALL_FIELD_MANAGER = 'dappmesh-install'

export interface OperatorManifestOptions {
  image: string
  /** the image of the product runtimes (default: the operator's own) */
  runtimeImage?: string
  /** the CLI's version, for the app.kubernetes.io/version label */
  version: string
  replicas?: number
}

const plural = (kind: string): string => {
  const info = KINDS.find((k) => k.kind === kind)
  if (!info) throw new Error(`no kind ${kind}`)
  return info.plural
}

const READ = ['get', 'list', 'watch']
/** What server-side apply of a child needs: a PATCH that creates it when missing, and delete for what a product no longer has. */
const MANAGE = ['get', 'list', 'watch', 'create', 'patch', 'delete']

/**
 * Exactly what the reconcilers read and write, derived from src/core/reconcile (no wildcards):
 * - the dappmesh kinds they watch (mesh, domain and product loops); DataProducts are patched for
 *   the finalizer; the status of meshes, domains and products is merge-patched.
 * - `update` on dataproducts/finalizers and datadomains/finalizers: children carry
 *   blockOwnerDeletion, which clusters with the OwnerReferencesPermissionEnforcement admission
 *   plugin allow only to who may update the owner's finalizers.
 * - a product's children (StatefulSet, Deployment, Service, ConfigMap, NetworkPolicy, CronJob,
 *   Role, RoleBinding) and the domain's (NetworkPolicy, ResourceQuota, LimitRange, and the
 *   governance ValidatingAdmissionPolicies and bindings): applied, watched, deleted.
 * - Secrets: created once (POST, never patched: credentials are never overwritten), read, deleted.
 * - Namespaces: the domain's, applied (never deleted); dappmesh-system made when missing.
 * - Events: created. CRDs: listed only, to check their version (the Deployment runs with
 *   --no-install-crds; `operator install` installs them with the installer's own rights).
 * - Each product's runtime: a ServiceAccount (applied, deleted), a Role reading the product's
 *   kinds and patching its status (all held above), and a ClusterRoleBinding of the built-in
 *   ClusterRole system:auth-delegator (TokenReviews and SubjectAccessReviews: how the runtime
 *   checks its callers). RBAC lets the operator bind that role only because it holds both of
 *   its rights itself: creating a review reveals whether a token is valid or a subject allowed,
 *   and changes nothing. No `bind` or `escalate` is needed, and the bindings it makes name only
 *   the runtimes' own accounts, which no product author chooses.
 * Roles: RBAC lets a subject create a Role only with permissions it holds itself, unless it has
 * `escalate` (and a RoleBinding to it only with them, unless `bind`). A DataRole's Role grants
 * get on secrets, services and configmaps and get/patch/update on statefulsets and deployments;
 * the operator holds all of those (hence `update` on statefulsets and deployments, which it does
 * not otherwise use), which is far less than `escalate` or `bind` would give it.
 */
export function operatorClusterRoleRules(): PolicyRule[] {
  const dappmesh = (resources: string[], verbs: string[]) => ({apiGroups: [GROUP], resources, verbs})
  return [
    // DataSchemas only for the runtimes' Roles (RBAC lets the operator grant only what it holds): the runtime checks data against them.
    dappmesh(['DataMesh', 'DataDomain', 'DataStorage', 'OutputPort', 'InputPort', 'DataWorkflow', 'DataContract', 'DataFlow', 'DataRole', 'DataSchema'].map(plural), READ),
    dappmesh([plural('DataProduct')], [...READ, 'patch']),
    dappmesh(['DataMesh', 'DataDomain', 'DataProduct'].map((k) => `${plural(k)}/status`), ['patch']),
    dappmesh(['DataDomain', 'DataProduct'].map((k) => `${plural(k)}/finalizers`), ['update']),
    {apiGroups: ['apps'], resources: ['statefulsets', 'deployments'], verbs: [...MANAGE, 'update']},
    {apiGroups: [''], resources: ['services', 'configmaps', 'serviceaccounts', 'resourcequotas', 'limitranges'], verbs: MANAGE},
    {apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'delete']},
    // Read only, to record the claims of a StatefulSet it removes and check those a new one would take up (kept-data-record.ts).
    {apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get']},
    {apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'create', 'patch']},
    {apiGroups: [''], resources: ['events'], verbs: ['create']},
    {apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: MANAGE},
    {apiGroups: ['batch'], resources: ['cronjobs'], verbs: MANAGE},
    {apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings', 'clusterrolebindings'], verbs: MANAGE},
    {apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create']},
    {apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create']},
    {apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingadmissionpolicies', 'validatingadmissionpolicybindings'], verbs: MANAGE},
    {apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['list']},
  ]
}

/**
 * Everything `operator install` applies, in order: the namespace, the ServiceAccount, the
 * ClusterRole and its binding, the leader election Role (leases only in dappmesh-system) and its
 * binding, the catalog reader Role and binding, and the Deployment.
 */
export type OperatorManifest = Typed<Namespace> | Typed<ServiceAccount> | Typed<ClusterRole> | Typed<ClusterRoleBinding> | Typed<Role> | Typed<RoleBinding> | Typed<Deployment>

export function operatorManifests(options: OperatorManifestOptions): OperatorManifest[] {
  const labels = {'app.kubernetes.io/name': OPERATOR_NAME, [PART_OF_LABEL]: 'dappmesh', [MANAGED_BY_LABEL]: 'dappmesh', 'app.kubernetes.io/version': options.version}
  const namespaced = {name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE, labels}
  const subject = {kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: OPERATOR_NAMESPACE}
  const rbac = 'rbac.authorization.k8s.io'
  const probe = (path: string) => ({httpGet: {path, port: 'health'}, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3})
  return [
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: OPERATOR_NAMESPACE, labels: {[PART_OF_LABEL]: 'dappmesh'}}},
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: namespaced},
    {apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: {name: OPERATOR_NAME, labels}, rules: operatorClusterRoleRules()},
    {apiVersion: `${rbac}/v1`, kind: 'ClusterRoleBinding', metadata: {name: OPERATOR_NAME, labels}, roleRef: {apiGroup: rbac, kind: 'ClusterRole', name: OPERATOR_NAME}, subjects: [subject]},
    {
      apiVersion: `${rbac}/v1`,
      kind: 'Role',
      metadata: {...namespaced, name: `${OPERATOR_NAME}-leader-election`},
      rules: [{apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update']}],
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: {...namespaced, name: `${OPERATOR_NAME}-leader-election`},
      roleRef: {apiGroup: rbac, kind: 'Role', name: `${OPERATOR_NAME}-leader-election`},
      subjects: [subject],
    },
    // The catalog names ports, contracts and products, nothing secret: every workload's account may
    // read it, its index and every name a shard may have (RBAC has no wildcard names), nothing else.
    {
      apiVersion: `${rbac}/v1`,
      kind: 'Role',
      metadata: {...namespaced, name: CATALOG_READER},
      rules: [{apiGroups: [''], resources: ['configmaps'], resourceNames: [CATALOG_NAME, ...SHARD_NAMES], verbs: ['get', 'watch']}],
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: {...namespaced, name: CATALOG_READER},
      roleRef: {apiGroup: rbac, kind: 'Role', name: CATALOG_READER},
      subjects: [{kind: 'Group', name: 'system:serviceaccounts', apiGroup: rbac}],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: namespaced,
      spec: {
        replicas: options.replicas ?? 1,
        selector: {matchLabels: {'app.kubernetes.io/name': OPERATOR_NAME}},
        template: {
          metadata: {labels},
          spec: {
            serviceAccountName: OPERATOR_NAME,
            securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: {type: 'RuntimeDefault'}},
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: 'operator',
                image: options.image,
                imagePullPolicy: 'IfNotPresent',
                // The image's entrypoint is `dappmesh`: the same image runs the products' runtimes.
                args: [
                  'operator',
                  'run',
                  '--leader-elect',
                  `--leader-election-namespace=${OPERATOR_NAMESPACE}`,
                  `--health-port=${HEALTH_PORT}`,
                  '--bind-address=0.0.0.0',
                  '--no-install-crds',
                  `--runtime-image=${options.runtimeImage ?? options.image}`,
                ],
                // The CLI keeps its caches under HOME; the root filesystem is read-only. NODE_OPTIONS and MALLOC_ARENA_MAX: the footprint (reconcile/footprint.ts).
                env: [{name: 'HOME', value: '/tmp'}, {name: 'NO_COLOR', value: '1'}, ...Object.entries(OPERATOR_ENV).map(([name, value]) => ({name, value}))],
                ports: [{name: 'health', containerPort: HEALTH_PORT, protocol: 'TCP'}],
                livenessProbe: probe('/healthz'),
                readinessProbe: probe('/readyz'),
                resources: {requests: {cpu: '100m', memory: '128Mi'}, limits: {cpu: '500m', memory: '512Mi'}},
                securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ['ALL']}},
                volumeMounts: [{name: 'tmp', mountPath: '/tmp'}],
              },
            ],
            volumes: [{name: 'tmp', emptyDir: {}}],
          },
        },
      },
    },
  ]
}
