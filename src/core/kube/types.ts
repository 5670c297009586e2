/**
 * The Kubernetes kinds dappmesh reads or writes, with the fields it reads or writes and no more
 * (as the REST API sends them: JSON, timestamps as strings). Hand-written rather than a client
 * library's generated types: a few hundred lines instead of a runtime dependency of megabytes,
 * and a field dappmesh starts to use is added here, where a reviewer sees it. Our own kinds are
 * the model's types (src/core/model/types.ts), stored as `Stored<T>`.
 *
 * `kind` and `apiVersion` are optional as on every KubeObject: the items of a list carry neither
 * (a cache fills them in); `Typed<T>` is an object that surely has both (one being applied).
 */
import type {KubeObject, ObjectMeta} from './objects.js'

export type {KubeList, KubeObject, KubeStatus, Lease, LeaseSpec, ListMeta, ObjectMeta, OwnerReference, WatchEvent} from './objects.js'

/** An object that surely carries its apiVersion and kind (an apply configuration, an object read by name). */
export type Typed<T extends KubeObject> = T & {apiVersion: string; kind: NonNullable<T['kind']>}

/** metav1.Condition, as dappmesh writes it on its kinds and reads it on Kubernetes' own. */
export interface Condition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  reason: string
  message: string
  observedGeneration?: number
  lastTransitionTime?: string
}

/** A condition as another controller may write it: only type and status are sure. */
export interface LooseCondition {
  type: string
  status: string
  reason?: string
  message?: string
  lastTransitionTime?: string
}

/** The status the operator writes on a DataProduct or DataDomain, and the runtime's part of it. */
export interface ComponentStatus {
  kind: string
  name: string
  ready: boolean
  message: string
}

export interface DappmeshStatus {
  observedGeneration?: number
  conditions?: Condition[]
  components?: ComponentStatus[]
  /** DataMesh: how many domains name it and how many products live in them */
  domains?: number
  products?: number
  /** DataProduct: what `dappmesh serve` records (its shape is the runtime's; read with care) */
  runtime?: Record<string, unknown>
}

/**
 * One of our kinds as the API server stores it: the model's type (from its JSON Schema), with
 * the metadata the server adds (uid, resourceVersion, ...) and the operator's status.
 */
export type Stored<T extends {metadata: unknown}> = Omit<T, 'metadata' | 'status'> & {metadata: ObjectMeta; status?: DappmeshStatus}

// --- core/v1 -----------------------------------------------------------------------------------

export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{key: string; operator: string; values?: string[]}>
}

export interface ResourceRequirements {
  requests?: Record<string, string>
  limits?: Record<string, string>
}

export interface EnvVar {
  name: string
  value?: string
  valueFrom?: {secretKeyRef?: {name: string; key: string}; configMapKeyRef?: {name: string; key: string}; fieldRef?: {fieldPath: string}}
}

export interface Probe {
  httpGet?: {path: string; port: string | number}
  tcpSocket?: {port: string | number}
  exec?: {command: string[]}
  initialDelaySeconds?: number
  periodSeconds?: number
  timeoutSeconds?: number
  failureThreshold?: number
}

export interface SecurityContext {
  allowPrivilegeEscalation?: boolean
  readOnlyRootFilesystem?: boolean
  runAsNonRoot?: boolean
  runAsUser?: number
  runAsGroup?: number
  capabilities?: {drop?: string[]; add?: string[]}
  seccompProfile?: {type: string}
}

export interface PodSecurityContext {
  runAsNonRoot?: boolean
  runAsUser?: number
  runAsGroup?: number
  fsGroup?: number
  seccompProfile?: {type: string}
}

export interface Container {
  name: string
  image?: string
  imagePullPolicy?: string
  command?: string[]
  args?: string[]
  env?: EnvVar[]
  envFrom?: Array<{secretRef?: {name: string}; configMapRef?: {name: string}}>
  ports?: Array<{name?: string; containerPort: number; protocol?: string}>
  resources?: ResourceRequirements
  securityContext?: SecurityContext
  volumeMounts?: Array<{name: string; mountPath: string; readOnly?: boolean}>
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
}

export interface Volume {
  name: string
  emptyDir?: Record<string, never> | {sizeLimit?: string}
  persistentVolumeClaim?: {claimName: string}
  secret?: {secretName: string}
  configMap?: {name: string}
  hostPath?: {path: string; type?: string}
}

export interface PodSpec {
  containers: Container[]
  initContainers?: Container[]
  volumes?: Volume[]
  serviceAccountName?: string
  automountServiceAccountToken?: boolean
  securityContext?: PodSecurityContext
  restartPolicy?: string
  terminationGracePeriodSeconds?: number
  nodeName?: string
}

export interface PodTemplateSpec {
  metadata?: {labels?: Record<string, string>; annotations?: Record<string, string>}
  spec: PodSpec
}

export interface PersistentVolumeClaimTemplate {
  metadata: {name: string}
  spec: {accessModes?: string[]; storageClassName?: string; resources?: {requests?: {storage?: string}}}
}

export interface Namespace extends KubeObject {
  kind?: 'Namespace'
  status?: {phase?: string}
}

export interface Secret extends KubeObject {
  kind?: 'Secret'
  type?: string
  /** base64, as the server sends it */
  data?: Record<string, string>
  /** plain text, write-only: the server merges it into data */
  stringData?: Record<string, string>
}

export interface ConfigMap extends KubeObject {
  kind?: 'ConfigMap'
  data?: Record<string, string>
}

export interface ServicePort {
  name?: string
  port: number
  targetPort?: number | string
  protocol?: string
  nodePort?: number
}

export interface Service extends KubeObject {
  kind?: 'Service'
  spec?: {type?: string; clusterIP?: string; selector?: Record<string, string>; ports?: ServicePort[]}
}

export interface ServiceAccount extends KubeObject {
  kind?: 'ServiceAccount'
  automountServiceAccountToken?: boolean
}

export interface ResourceQuota extends KubeObject {
  kind?: 'ResourceQuota'
  spec?: {hard?: Record<string, string>}
}

export interface LimitRange extends KubeObject {
  kind?: 'LimitRange'
  spec?: {limits: Array<{type: string; default?: Record<string, string>; defaultRequest?: Record<string, string>}>}
}

export interface Pod extends KubeObject {
  kind?: 'Pod'
  spec?: PodSpec
  status?: {phase?: string; conditions?: LooseCondition[]; containerStatuses?: Array<{name: string; ready: boolean; restartCount?: number; state?: Record<string, {reason?: string; message?: string; exitCode?: number}>}>}
}

export interface PersistentVolumeClaim extends KubeObject {
  kind?: 'PersistentVolumeClaim'
  spec?: PersistentVolumeClaimTemplate['spec'] & {volumeName?: string}
  status?: {phase?: string}
}

export interface PersistentVolume extends KubeObject {
  kind?: 'PersistentVolume'
  spec?: {
    storageClassName?: string
    capacity?: {storage: string}
    accessModes?: string[]
    persistentVolumeReclaimPolicy?: string
    hostPath?: {path: string; type?: string}
    nodeAffinity?: {required: {nodeSelectorTerms: Array<{matchExpressions: Array<{key: string; operator: string; values: string[]}>}>}}
  }
}

export interface StorageClass extends KubeObject {
  kind?: 'StorageClass'
  provisioner: string
  reclaimPolicy?: string
  volumeBindingMode?: string
}

/** core/v1 Event, as the operator records it and `status` and `apply --wait` read it. */
export interface Event extends KubeObject {
  kind?: 'Event'
  involvedObject: {apiVersion?: string; kind?: string; name: string; namespace?: string; uid?: string; resourceVersion?: string}
  type?: 'Normal' | 'Warning'
  reason?: string
  message?: string
  source?: {component?: string}
  reportingComponent?: string
  firstTimestamp?: string
  lastTimestamp?: string
  eventTime?: string
  count?: number
}

// --- apps/v1, batch/v1 ---------------------------------------------------------------------------

/** What a workload's controller reports: enough to say whether its rollout is done. */
export interface WorkloadStatus {
  observedGeneration?: number
  replicas?: number
  readyReplicas?: number
  updatedReplicas?: number
  availableReplicas?: number
  conditions?: LooseCondition[]
}

export interface StatefulSet extends KubeObject {
  kind?: 'StatefulSet'
  spec?: {
    replicas?: number
    serviceName?: string
    selector: LabelSelector
    template: PodTemplateSpec
    volumeClaimTemplates?: PersistentVolumeClaimTemplate[]
    persistentVolumeClaimRetentionPolicy?: {whenDeleted?: string; whenScaled?: string}
  }
  status?: WorkloadStatus
}

export interface Deployment extends KubeObject {
  kind?: 'Deployment'
  spec?: {replicas?: number; selector: LabelSelector; template: PodTemplateSpec}
  status?: WorkloadStatus
}

export interface JobSpec {
  backoffLimit?: number
  podFailurePolicy?: {rules: Array<{action: string; onExitCodes?: {containerName?: string; operator: string; values: number[]}}>}
  template: PodTemplateSpec
}

export interface Job extends KubeObject {
  kind?: 'Job'
  spec?: JobSpec
  status?: {succeeded?: number; failed?: number; active?: number; conditions?: LooseCondition[]}
}

export interface CronJob extends KubeObject {
  kind?: 'CronJob'
  spec?: {schedule: string; concurrencyPolicy?: string; suspend?: boolean; jobTemplate: {spec: JobSpec}}
}

// --- networking, rbac, admission, coordination, apiextensions ---------------------------------

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector
  namespaceSelector?: LabelSelector
}

export interface NetworkPolicy extends KubeObject {
  kind?: 'NetworkPolicy'
  spec?: {
    podSelector: LabelSelector
    policyTypes?: string[]
    ingress?: Array<{from?: NetworkPolicyPeer[]; ports?: Array<{protocol?: string; port?: number | string}>}>
  }
}

export interface PolicyRule {
  apiGroups?: string[]
  resources?: string[]
  resourceNames?: string[]
  verbs: string[]
  nonResourceURLs?: string[]
}

export interface RbacSubject {
  kind: string
  name: string
  namespace?: string
  apiGroup?: string
}

export interface RoleRef {
  apiGroup: string
  kind: string
  name: string
}

export interface Role extends KubeObject {
  kind?: 'Role'
  rules?: PolicyRule[]
}

export interface ClusterRole extends KubeObject {
  kind?: 'ClusterRole'
  rules?: PolicyRule[]
}

export interface RoleBinding extends KubeObject {
  kind?: 'RoleBinding'
  roleRef: RoleRef
  subjects?: RbacSubject[]
}

export interface ClusterRoleBinding extends KubeObject {
  kind?: 'ClusterRoleBinding'
  roleRef: RoleRef
  subjects?: RbacSubject[]
}

export interface ValidatingAdmissionPolicy extends KubeObject {
  kind?: 'ValidatingAdmissionPolicy'
  spec?: {
    failurePolicy?: 'Fail' | 'Ignore'
    paramKind?: {apiVersion: string; kind: string}
    matchConstraints?: {resourceRules: Array<{apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[]}>}
    matchConditions?: Array<{name: string; expression: string}>
    variables?: Array<{name: string; expression: string}>
    validations?: Array<{expression: string; message?: string; messageExpression?: string; reason?: string}>
  }
}

export interface ValidatingAdmissionPolicyBinding extends KubeObject {
  kind?: 'ValidatingAdmissionPolicyBinding'
  spec?: {
    policyName: string
    validationActions: string[]
    paramRef?: {name?: string; namespace?: string; parameterNotFoundAction?: string}
    matchResources?: {namespaceSelector?: LabelSelector; objectSelector?: LabelSelector}
  }
}

/** A structural OpenAPI v3 schema, as a CRD holds it. */
export interface JSONSchemaProps {
  [keyword: string]: unknown
  type?: string
  description?: string
  required?: string[]
  properties?: Record<string, JSONSchemaProps>
  items?: JSONSchemaProps
  'x-kubernetes-validations'?: Array<{rule: string; message?: string; messageExpression?: string}>
}

/** A CustomResourceDefinition: what `dappmesh crds` writes and what the CLI reads of the installed ones. */
export interface CustomResourceDefinition extends KubeObject {
  kind?: 'CustomResourceDefinition'
  spec: {
    group: string
    names: {kind: string; plural: string; singular?: string; shortNames?: string[]; listKind?: string; categories?: string[]}
    scope: 'Cluster' | 'Namespaced'
    versions: Array<{
      name: string
      served: boolean
      storage: boolean
      schema: {openAPIV3Schema: JSONSchemaProps}
      subresources?: {status?: Record<string, never>}
      additionalPrinterColumns?: Array<{name: string; type: string; jsonPath: string; description?: string; priority?: number}>
    }>
  }
  status?: {conditions?: LooseCondition[]; acceptedNames?: {kind?: string; plural?: string}; storedVersions?: string[]}
}
