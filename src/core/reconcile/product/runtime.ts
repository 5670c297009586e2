import {runtimeName} from '../../model/child-names.js'
import {ENGINES_WITH_ACCESS_USERS} from '../../model/grants.js'
import {containerSecurityContext, podSecurityContext} from '../../model/pod-security.js'
import type {Container, EnvVar, PolicyRule, Stored} from '../../kube/types.js'
import type {DataStorage} from '../../model/types.js'
import {PRODUCT_LABEL} from '../../render/render.js'
import {RUNTIME_NODE_OPTIONS} from '../../runtime/footprint.js'
import {accessEnvName} from '../../storage/access-users.js'
import {storageEnvName} from '../../storage/env.js'
import {ACCESS_LEVELS, type AccessLevel} from '../../storage/postgres-users.js'
// Labels only, read when rendering (after both modules loaded): the import cycle with desired.ts is harmless.
import {type Child, type ChildMeta, PORT_LABEL, type ProductState, WORKFLOW_LABEL} from './desired.js'

/** The port `dappmesh serve` listens on in the cluster; every runtime Service targets it. */
export const RUNTIME_PORT = 8080
/** Where the runtime's volume is mounted: `serve --data-dir`, holding `<storage>.duckdb` per duckdb storage. */
export const RUNTIME_DATA_DIR = '/data'
/** Marks the runtime's pods (and the CronJobs' trigger pods) among a product's pods. */
export const COMPONENT_LABEL = 'dappmesh.io/component'
/** On cluster-scoped children, which carry no namespace of their own and cannot be owned by a namespaced product. */
export const NAMESPACE_LABEL = 'dappmesh.io/namespace'
/**
 * The built-in ClusterRole (in every cluster since 1.x) that allows creating TokenReviews and
 * SubjectAccessReviews: what the runtime needs to check a caller's token, and no more.
 */
export const AUTH_DELEGATOR_ROLE = 'system:auth-delegator'
/** The non-root user of the dappmesh image (the Node image's `node`), by number so runAsNonRoot can verify it. */
export const IMAGE_USER = 1000

export {runtimeName} from '../../model/child-names.js'

/** The runtime's address inside the cluster, as a workflow trigger calls it. */
export function runtimeUrl(product: string, namespace: string): string {
  return `http://${runtimeName(product)}.${namespace}:${RUNTIME_PORT}`
}

/**
 * Cluster-scoped: colons never occur in a namespace or product name, so two products cannot
 * share one (a `-` would let `a` + `b-c` and `a-b` + `c` meet).
 */
export function runtimeClusterBindingName(namespace: string, product: string): string {
  return `dappmesh-runtime:${namespace}:${product}`
}

/** Pod Security `restricted` as the image's own user; the root filesystem read-only besides (HOME and temp files go to /tmp). */
const POD_SECURITY = podSecurityContext(IMAGE_USER)
const CONTAINER_SECURITY = {...containerSecurityContext(), readOnlyRootFilesystem: true}

export interface RuntimeOptions {
  /** the dappmesh image the runtime and the workflow triggers run */
  image: string
}

/** The parts of the product reconciler that render the runtime and need its product's identity. */
export interface RuntimeContext {
  name: string
  namespace: string
  /** metadata of a namespaced child of the product (labels, owner) */
  meta: (name: string, labels: Record<string, string>) => ChildMeta
  /** labels for a pod template or a cluster-scoped object */
  labels: (labels: Record<string, string>) => Record<string, string>
  /** the cluster name of one of the product's parts (a port, a workflow) */
  child: (local: string) => string
  /** the Service in front of a storage, and its port */
  storageService: (storage: Stored<DataStorage>) => {name: string; port: number}
  secretName: (storage: string) => string
  /** the Secret of a storage's per-access database user */
  accessSecretName: (storage: string, access: AccessLevel) => string
  /** ProductState.credentialsVersion */
  credentialsVersion?: string
}

/** On the runtime's pod template: ProductState.credentialsVersion, so a rotated password restarts it. */
export const CREDENTIALS_VERSION_ANNOTATION = 'dappmesh.io/credentials-version'

/**
 * A quantity in bytes, for adding the sizes of several duckdb storages. Only the suffixes
 * DataStorage.size takes (binary Ki..Ei, decimal k..E, or none) are known.
 */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGTPE]i|[kMGTPE])?$/.exec(quantity.trim())
  if (!match) throw new Error(`${quantity} is not a storage quantity such as 10Gi`)
  const binary: Record<string, number> = {Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60}
  const decimal: Record<string, number> = {k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18}
  const suffix = match[2] ?? ''
  return Number(match[1]) * (binary[suffix] ?? decimal[suffix] ?? 1)
}

/** Bytes as the API server writes them back (the largest binary suffix that divides exactly), so a live claim compares equal. */
export function bytesQuantity(bytes: number): string {
  const rounded = Math.ceil(bytes)
  for (const [suffix, size] of [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (rounded >= size && rounded % size === 0) return `${rounded / size}${suffix}`
  }
  return String(rounded)
}

/**
 * Whether the runtime holds data of its own, on a volume that outlives its pod: a duckdb
 * storage's database, or the embedded default database of a flow with nowhere else to keep its
 * states (no `spec.storage`, and no analytics or operational storage: DESIGN §7). Otherwise
 * /data is scratch space (an emptyDir), and a product without data of its own needs no volume.
 */
export function runtimeKeepsData(state: ProductState): boolean {
  if (state.storages.some((s) => s.spec?.engine === 'duckdb')) return true
  const fallback = state.storages.some((s) => s.spec?.class === 'analytics' || s.spec?.class === 'operational')
  return (state.flows ?? []).some((f) => !f.spec?.storage && !fallback)
}

/**
 * The size of the runtime's volume: one claim holding every duckdb storage's database file, as
 * large as their sizes together; 1Gi for the embedded default database alone.
 */
export function runtimeVolumeSize(storages: Array<Stored<DataStorage>>): string {
  const duckdb = storages.filter((s) => s.spec?.engine === 'duckdb')
  if (duckdb.length === 0) return '1Gi'
  if (duckdb.length === 1) return duckdb[0].spec.size ?? '1Gi'
  return bytesQuantity(duckdb.reduce((sum, s) => sum + quantityBytes(s.spec.size ?? '1Gi'), 0))
}

const RBAC = 'rbac.authorization.k8s.io'

/**
 * What a runtime may read: the dappmesh kinds of its namespace. RBAC cannot restrict list and
 * watch by label, so it may read the other products of its domain too; their models are not
 * secret (the catalog publishes them). It writes only its own product's status, by name.
 */
function runtimeRules(name: string): PolicyRule[] {
  const kinds = ['dataproducts', 'datastorages', 'outputports', 'inputports', 'dataworkflows', 'datacontracts', 'dataflows', 'dataschemas', 'dataroles']
  return [
    {apiGroups: ['dappmesh.io'], resources: kinds, verbs: ['get', 'list', 'watch']},
    // The runtime records its last run per workflow and contract results under status.runtime.
    {apiGroups: ['dappmesh.io'], resources: ['dataproducts/status'], resourceNames: [name], verbs: ['patch']},
  ]
}

/**
 * The storage connection environment of the runtime: addresses as values, credentials only as
 * Secret references. Besides HOST, PORT, USERNAME and PASSWORD for every server engine, what the
 * drivers read: postgresql a URL (Kubernetes expands `$(VAR)` from the variables before it, so
 * the password never appears in the pod spec), s3/minio an ENDPOINT and an access key pair.
 * On postgresql the runtime is the storage's write user, from that user's Secret (which also
 * names the database: the engine's image names it after the root user); on engines without
 * per-access users, the root user.
 */
function storageEnv(state: ProductState, ctx: RuntimeContext, root = false): EnvVar[] {
  const env: EnvVar[] = []
  for (const storage of state.storages) {
    if (storage.spec?.engine === 'duckdb') continue
    // The names the storage drivers read (storage/env.ts), here filled from the pod spec.
    const v = (key: string) => storageEnvName(storage.metadata.name, key)
    const service = ctx.storageService(storage)
    const host = `${service.name}.${ctx.namespace}.svc`
    const postgres = storage.spec.engine === 'postgresql'
    const ownUser = ENGINES_WITH_ACCESS_USERS.includes(storage.spec.engine)
    const from = (secret: string) => (key: string) => ({valueFrom: {secretKeyRef: {name: secret, key}}})
    const rootRef = from(ctx.secretName(storage.metadata.name))
    const userRef = ownUser && !root ? from(ctx.accessSecretName(storage.metadata.name, 'write')) : rootRef
    env.push(
      {name: v('ENGINE'), value: storage.spec.engine},
      {name: v('HOST'), value: host},
      {name: v('PORT'), value: String(service.port)},
      {name: v('USERNAME'), ...userRef('username')},
      {name: v('PASSWORD'), ...userRef('password')},
    )
    if (postgres) {
      const database = root ? v('USERNAME') : v('DATABASE')
      if (!root) env.push({name: v('DATABASE'), ...userRef('database')})
      env.push({name: v('URL'), value: `postgres://$(${v('USERNAME')}):$(${v('PASSWORD')})@${host}:${service.port}/$(${database})`})
    } else if (storage.spec.engine === 's3' || storage.spec.engine === 'minio') {
      env.push(
        {name: v('ENDPOINT'), value: `http://${host}:${service.port}`},
        {name: v('ACCESS_KEY_ID'), ...rootRef('username')},
        {name: v('SECRET_ACCESS_KEY'), ...rootRef('password')},
      )
    }
  }
  return env
}

/**
 * The init container that makes the postgresql storages' per-access users before the runtime
 * starts (`dappmesh storage users`; why there: storage/access-users.ts). It alone gets the root
 * user, and the users' names and passwords from their Secrets.
 */
function accessUsersInit(state: ProductState, ctx: RuntimeContext, options: RuntimeOptions): Container | undefined {
  const storages = state.storages.filter((s) => ENGINES_WITH_ACCESS_USERS.includes(s.spec?.engine))
  if (storages.length === 0) return undefined
  const users = storages.flatMap((s) =>
    ACCESS_LEVELS.flatMap((access) =>
      (['USERNAME', 'PASSWORD'] as const).map((key) => ({name: accessEnvName(s.metadata.name, access, key), valueFrom: {secretKeyRef: {name: ctx.accessSecretName(s.metadata.name, access), key: key.toLowerCase()}}})),
    ),
  )
  return {
    name: 'access-users',
    image: options.image,
    imagePullPolicy: 'IfNotPresent',
    args: ['storage', 'users', '--schema', ctx.name, ...storages.flatMap((s) => ['--storage', s.metadata.name])],
    env: [{name: 'HOME', value: '/tmp'}, {name: 'NO_COLOR', value: '1'}, ...storageEnv({...state, storages}, ctx, true), ...users],
    resources: {requests: {cpu: '10m', memory: '64Mi'}, limits: {cpu: '500m', memory: '256Mi'}},
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [{name: 'tmp', mountPath: '/tmp'}],
  }
}

/**
 * Everything that runs the product's data plane (DESIGN §7): the runtime StatefulSet
 * (`dappmesh serve`), its ServiceAccount and read-only RBAC, the ClusterRoleBinding that lets it
 * check tokens, its Service, a Service per output port it serves, its NetworkPolicy, and per
 * scheduled workflow a CronJob that asks it to run the workflow.
 */
export function runtimeChildren(state: ProductState, ctx: RuntimeContext, options: RuntimeOptions): Child[] {
  const {name, namespace} = ctx
  const full = runtimeName(name)
  const own = {[COMPONENT_LABEL]: 'runtime'}
  const selector = {[PRODUCT_LABEL]: name, ...own}
  const subject = {kind: 'ServiceAccount', name: full, namespace}
  const children: Child[] = [
    // Its own account, with the token mounted: it reads its model from the API server and reviews callers' tokens.
    {apiVersion: 'v1', kind: 'ServiceAccount', metadata: ctx.meta(full, own), automountServiceAccountToken: true},
    {apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: ctx.meta(full, own), rules: runtimeRules(name)},
    {apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: ctx.meta(full, own), roleRef: {apiGroup: RBAC, kind: 'Role', name: full}, subjects: [subject]},
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRoleBinding',
      // Cluster-scoped: no owner reference to a namespaced product is valid, so the labels say whose it is and the finalizer deletes it.
      metadata: {name: runtimeClusterBindingName(namespace, name), labels: ctx.labels({...own, [NAMESPACE_LABEL]: namespace})},
      roleRef: {apiGroup: RBAC, kind: 'ClusterRole', name: AUTH_DELEGATOR_ROLE},
      subjects: [subject],
    },
  ]

  const keepsData = runtimeKeepsData(state)
  const init = accessUsersInit(state, ctx, options)
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({httpGet: {path, port: 'http'}, periodSeconds, timeoutSeconds: 2, failureThreshold})
  children.push({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: ctx.meta(full, own),
    spec: {
      // One writer: DuckDB opens its database file for one process only.
      replicas: 1,
      serviceName: full,
      selector: {matchLabels: selector},
      template: {
        metadata: {labels: ctx.labels(own), ...(ctx.credentialsVersion ? {annotations: {[CREDENTIALS_VERSION_ANNOTATION]: ctx.credentialsVersion}} : {})},
        spec: {
          serviceAccountName: full,
          automountServiceAccountToken: true,
          securityContext: POD_SECURITY,
          terminationGracePeriodSeconds: 30,
          ...(init ? {initContainers: [init]} : {}),
          containers: [
            {
              name: 'runtime',
              image: options.image,
              imagePullPolicy: 'IfNotPresent',
              args: ['serve', '--product', name, '-n', namespace, '--host', '0.0.0.0', '--port', String(RUNTIME_PORT), '--data-dir', RUNTIME_DATA_DIR],
              // HOME: the root filesystem is read-only; /tmp is an emptyDir. NODE_OPTIONS: the idle footprint (runtime/footprint.ts).
              env: [{name: 'HOME', value: '/tmp'}, {name: 'NO_COLOR', value: '1'}, {name: 'NODE_OPTIONS', value: RUNTIME_NODE_OPTIONS}, ...storageEnv(state, ctx)],
              ports: [{name: 'http', containerPort: RUNTIME_PORT, protocol: 'TCP'}],
              // Opening a large database can take a while: the startup probe holds liveness off until /healthz answers once.
              startupProbe: probe('/healthz', 2, 60),
              livenessProbe: probe('/healthz', 10, 3),
              readinessProbe: probe('/readyz', 5, 2),
              resources: {requests: {cpu: '50m', memory: '128Mi'}, limits: {cpu: '1', memory: '1Gi'}},
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [
                {name: 'data', mountPath: RUNTIME_DATA_DIR},
                {name: 'tmp', mountPath: '/tmp'},
              ],
            },
          ],
          volumes: [{name: 'tmp', emptyDir: {}}, ...(keepsData ? [] : [{name: 'data', emptyDir: {}}])],
        },
      },
      ...(keepsData ? {volumeClaimTemplates: [{metadata: {name: 'data'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: runtimeVolumeSize(state.storages)}}}}]} : {}),
    },
  })
  const http = [{name: 'http', port: RUNTIME_PORT, targetPort: 'http', protocol: 'TCP'}]
  children.push({apiVersion: 'v1', kind: 'Service', metadata: ctx.meta(full, own), spec: {selector, ports: http}})

  // A Service per output port the runtime serves (those with their own image have their own Deployment and Service).
  for (const port of state.outputPorts) {
    if (port.spec?.service?.image) continue
    const number = port.spec?.service?.port ?? RUNTIME_PORT
    children.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: ctx.meta(ctx.child(port.metadata.name), {[PORT_LABEL]: port.metadata.name, ...own}),
      spec: {selector, ports: [{name: 'http', port: number, targetPort: 'http', protocol: 'TCP'}]},
    })
  }

  children.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: ctx.meta(full, own),
    spec: {
      podSelector: {matchLabels: selector},
      policyTypes: ['Ingress'],
      // Any caller in the cluster, on the API port only: who may read or push is the runtime's token check, not the network's.
      ingress: [{from: [{namespaceSelector: {}}], ports: [{protocol: 'TCP', port: RUNTIME_PORT}]}],
    },
  })

  for (const workflow of state.workflows) {
    if (!workflow.spec?.schedule) continue
    const wf = {[WORKFLOW_LABEL]: workflow.metadata.name, [COMPONENT_LABEL]: 'trigger'}
    children.push({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: ctx.meta(ctx.child(workflow.metadata.name), wf),
      spec: {
        schedule: workflow.spec.schedule,
        concurrencyPolicy: 'Forbid',
        jobTemplate: {
          spec: {
            // The runtime retries activities itself: a run that failed (exit 1) or a usage error (2)
            // fails the job at once; an unreachable runtime (3) or a timeout (4) is tried again.
            backoffLimit: 3,
            podFailurePolicy: {rules: [{action: 'FailJob', onExitCodes: {containerName: 'trigger', operator: 'In', values: [1, 2]}}]},
            template: {
              metadata: {labels: ctx.labels(wf)},
              spec: {
                restartPolicy: 'Never',
                // The runtime's own account: its token is what the trigger presents.
                serviceAccountName: full,
                automountServiceAccountToken: true,
                securityContext: POD_SECURITY,
                containers: [
                  {
                    name: 'trigger',
                    image: options.image,
                    imagePullPolicy: 'IfNotPresent',
                    args: ['workflow', 'trigger', workflow.metadata.name, '--url', runtimeUrl(name, namespace)],
                    env: [{name: 'HOME', value: '/tmp'}, {name: 'NO_COLOR', value: '1'}],
                    resources: {requests: {cpu: '10m', memory: '64Mi'}, limits: {cpu: '200m', memory: '256Mi'}},
                    securityContext: CONTAINER_SECURITY,
                    volumeMounts: [{name: 'tmp', mountPath: '/tmp'}],
                  },
                ],
                volumes: [{name: 'tmp', emptyDir: {}}],
              },
            },
          },
        },
      },
    })
  }
  return children
}
