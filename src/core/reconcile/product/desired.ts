import {type Access, ENGINES_WITH_ACCESS_USERS, type GrantChild, type GrantTarget, GRANT_PERMISSIONS, type Subject, refusedSubject, storageGrantNote} from '../../model/grants.js'
import {childName, workloadAccountName} from '../../model/child-names.js'
import {API_VERSION} from '../../model/kinds.js'
import {containerSecurityContext, podSecurityContext} from '../../model/pod-security.js'
import type {ClusterRoleBinding, ConfigMap, CronJob, Deployment, KubeObject, NetworkPolicy, OwnerReference, PodSpec, PolicyRule, Role, RoleBinding, Secret, Service, ServiceAccount, StatefulSet, Stored, Typed} from '../../kube/types.js'
import type {DataContract, DataFlow, DataProduct, DataRole, DataStorage, DataWorkflow, InputPort, OutputPort} from '../../model/types.js'
import {MANAGED_BY_LABEL, PART_OF_LABEL, PRODUCT_LABEL} from '../../render/render.js'
import {ACCESS_LEVELS, type AccessLevel, accessRoleName} from '../../storage/postgres-users.js'
import {COMPONENT_LABEL, type RuntimeContext, type RuntimeOptions, runtimeChildren} from './runtime.js'

export const FIELD_MANAGER = 'dappmesh-operator'
export const STORAGE_LABEL = 'dappmesh.io/storage'
export const PORT_LABEL = 'dappmesh.io/port'
export const WORKFLOW_LABEL = 'dappmesh.io/workflow'
/** On a storage's per-access user Secret: which access level (read, write, admin) it is for. */
export const ACCESS_LABEL = 'dappmesh.io/access'

/** The metadata of a child as applied: always labelled. */
export interface ChildMeta {
  name: string
  namespace?: string
  labels: Record<string, string>
  ownerReferences?: OwnerReference[]
  annotations?: Record<string, string>
}

type Applied<T extends KubeObject> = Typed<T> & {metadata: ChildMeta}

/** A child as applied; cluster-scoped ones (the runtime's ClusterRoleBinding) have no namespace and no owner reference. */
export type Child =
  | Applied<StatefulSet>
  | Applied<Deployment>
  | Applied<Service>
  | Applied<Secret>
  | Applied<ConfigMap>
  | Applied<ServiceAccount>
  | Applied<NetworkPolicy>
  | Applied<CronJob>
  | Applied<Role>
  | Applied<RoleBinding>
  | Applied<ClusterRoleBinding>
export type ChildKind = Child['kind']

/** What the product reconciler reads: the DataProduct and its product-scoped resources in the cluster. */
export interface ProductState {
  product: Stored<DataProduct>
  storages: Array<Stored<DataStorage>>
  outputPorts: Array<Stored<OutputPort>>
  inputPorts: Array<Stored<InputPort>>
  workflows: Array<Stored<DataWorkflow>>
  contracts: Array<Stored<DataContract>>
  roles?: Array<Stored<DataRole>>
  /** the product's DataFlows: whether any keeps its states in the runtime's embedded database */
  flows?: Array<Stored<DataFlow>>
  /**
   * A digest of the versions of the storages' per-access user Secrets, on the runtime's pod
   * template: a changed password restarts the runtime, whose init container then sets it.
   */
  credentialsVersion?: string
}

/** The product as the reconciler reads it; `meta` and the owner reference need its name, namespace and uid. */
type Product = Stored<DataProduct>

interface Engine {
  image: (version?: string) => string
  port: number
  dataPath: string
  /** environment variable names the image reads its credentials from */
  userEnv: string
  passwordEnv: string
  args?: string[]
  /** plain environment the image needs besides its credentials */
  env?: Record<string, string>
  /** the uid the image's data directory belongs to (DEFAULT_UID when the image has none of its own) */
  uid?: number
  /** requests and limits when the DataStorage sets none (`spec.resources` overrides them per field) */
  resources?: Resources
}

export interface Resources {
  requests: {cpu: string; memory: string}
  limits: {cpu: string; memory: string}
}

/** Modest defaults, so a product fits a laptop cluster and a runaway engine cannot starve its node. */
const ENGINE_RESOURCES: Resources = {requests: {cpu: '100m', memory: '256Mi'}, limits: {cpu: '1', memory: '1Gi'}}
/** The engines that need more memory to start at all. */
const LARGE_ENGINE_RESOURCES: Resources = {requests: {cpu: '250m', memory: '1Gi'}, limits: {cpu: '2', memory: '4Gi'}}
/** A port's or workflow's container. */
export const WORKLOAD_RESOURCES: Resources = {requests: {cpu: '50m', memory: '64Mi'}, limits: {cpu: '500m', memory: '256Mi'}}

/** One image per engine that runs as a server; a DataStorage's own `image` wins. duckdb is embedded in the runtime: no server, no image. */
export const ENGINE_IMAGES: Record<string, Engine> = {
  // PGDATA one level below the volume: initdb must own the directory it initialises (it makes it
  // 0700), and a volume's root belongs to root (a local-path directory, or a disk with fsGroup),
  // which uid 999 cannot take over. The official image's documentation says the same.
  postgresql: {image: (v) => `postgres:${v ?? '16'}`, port: 5432, dataPath: '/var/lib/postgresql/data', env: {PGDATA: '/var/lib/postgresql/data/pgdata'}, userEnv: 'POSTGRES_USER', passwordEnv: 'POSTGRES_PASSWORD', uid: 999},
  surrealdb: {image: (v) => `surrealdb/surrealdb:${v ?? 'v2'}`, port: 8000, dataPath: '/data', userEnv: 'SURREAL_USER', passwordEnv: 'SURREAL_PASS', args: ['start', 'rocksdb:/data']},
  tidb: {image: (v) => `pingcap/tidb:${v ?? 'v8.5.0'}`, port: 4000, dataPath: '/data', userEnv: 'TIDB_USER', passwordEnv: 'TIDB_PASSWORD', resources: LARGE_ENGINE_RESOURCES},
  doris: {image: (v) => `apache/doris:${v ?? '2.1.7'}`, port: 9030, dataPath: '/data', userEnv: 'DORIS_USER', passwordEnv: 'DORIS_PASSWORD', resources: LARGE_ENGINE_RESOURCES},
  clickhouse: {image: (v) => `clickhouse/clickhouse-server:${v ?? '24.8'}`, port: 8123, dataPath: '/var/lib/clickhouse', userEnv: 'CLICKHOUSE_USER', passwordEnv: 'CLICKHOUSE_PASSWORD', uid: 101, resources: LARGE_ENGINE_RESOURCES},
  minio: {image: (v) => `minio/minio:${v ?? 'RELEASE.2024-10-13T13-34-11Z'}`, port: 9000, dataPath: '/data', userEnv: 'MINIO_ROOT_USER', passwordEnv: 'MINIO_ROOT_PASSWORD', args: ['server', '/data']},
  // An S3 store is served inside the cluster by an S3-compatible server.
  s3: {image: (v) => `minio/minio:${v ?? 'RELEASE.2024-10-13T13-34-11Z'}`, port: 9000, dataPath: '/data', userEnv: 'MINIO_ROOT_USER', passwordEnv: 'MINIO_ROOT_PASSWORD', args: ['server', '/data']},
}

export const DEFAULT_PORT = 8080

export {childName} from '../../model/child-names.js'

/** The product's ServiceAccount, which its workloads run as: no token, no rights unless a DataRole names it. */
export function serviceAccountName(product: string): string {
  return workloadAccountName(product)
}

/** A storage's requests and limits: the engine's defaults, each overridden by `spec.resources`. */
export function storageResources(storage: Stored<DataStorage>): Resources {
  const defaults = (ENGINE_IMAGES[storage.spec.engine] ?? ENGINE_IMAGES.postgresql).resources ?? ENGINE_RESOURCES
  const own = storage.spec.resources ?? {}
  return {requests: {...defaults.requests, ...own.requests}, limits: {...defaults.limits, ...own.limits}}
}

/** What every pod of the product shares: its own ServiceAccount without a token, and Pod Security `restricted`. */
function podBasics(product: Product, uid?: number): Pick<PodSpec, 'serviceAccountName' | 'automountServiceAccountToken' | 'securityContext'> {
  return {serviceAccountName: serviceAccountName(product.metadata.name), automountServiceAccountToken: false, securityContext: podSecurityContext(uid)}
}

export function secretName(product: string, storage: string): string {
  return `${childName(product, storage)}-credentials`
}

/** The Secret of a storage's per-access database user: `<product>--<storage>-<access>`. */
export function accessSecretName(product: string, storage: string, access: AccessLevel): string {
  return `${childName(product, storage)}-${access}`
}

/** Whether dappmesh makes per-access database users (and their Secrets) on a storage's engine. */
export function hasAccessUsers(storage: Stored<DataStorage> | undefined): boolean {
  return ENGINES_WITH_ACCESS_USERS.includes(storage?.spec?.engine ?? '')
}

/** The engine's root user of a storage (credentialsSecret); the engine's image names its database after it too. */
function rootUser(storage: Stored<DataStorage>): string {
  return storage.metadata.name.replaceAll('-', '_')
}

export function ownerReference(product: Product): OwnerReference {
  // A stored object always has its uid.
  return {apiVersion: API_VERSION, kind: 'DataProduct', name: product.metadata.name, uid: product.metadata.uid!, controller: true, blockOwnerDeletion: true}
}

function productLabels(product: Product): Record<string, string> {
  const name = product.metadata.name
  return {[PRODUCT_LABEL]: name, [PART_OF_LABEL]: name, [MANAGED_BY_LABEL]: FIELD_MANAGER}
}

function meta(product: Product, name: string, labels: Record<string, string>): ChildMeta {
  return {name, namespace: product.metadata.namespace, labels: {...productLabels(product), ...labels}, ownerReferences: [ownerReference(product)]}
}

/** A missing reference, said as `Kind name`. */
export function missingReferences(state: ProductState, domains: Set<string>, flows: Set<string>): string[] {
  const missing: string[] = []
  const domain = state.product.spec?.domain
  if (domain && !domains.has(domain)) missing.push(`DataDomain ${domain}`)
  const storages = new Set(state.storages.map((s) => s.metadata.name))
  const contracts = new Set(state.contracts.map((c) => c.metadata.name))
  for (const port of state.outputPorts) {
    if (port.spec?.storage && !storages.has(port.spec.storage)) missing.push(`DataStorage ${port.spec.storage} (OutputPort ${port.metadata.name})`)
    if (port.spec?.contract && !contracts.has(port.spec.contract)) missing.push(`DataContract ${port.spec.contract} (OutputPort ${port.metadata.name})`)
  }
  for (const workflow of state.workflows) {
    if (workflow.spec?.flow && !flows.has(workflow.spec.flow)) missing.push(`DataFlow ${workflow.spec.flow} (DataWorkflow ${workflow.metadata.name})`)
  }
  const outputPorts = new Set(state.outputPorts.map((o) => o.metadata.name))
  for (const role of state.roles ?? []) {
    for (const grant of role.spec?.grants ?? []) {
      if (grant.storage && !storages.has(grant.storage)) missing.push(`DataStorage ${grant.storage} (DataRole ${role.metadata.name})`)
      if (grant.outputPort && !outputPorts.has(grant.outputPort)) missing.push(`OutputPort ${grant.outputPort} (DataRole ${role.metadata.name})`)
    }
  }
  return missing
}

/**
 * The credentials Secret of a storage: created once, with data made by `generate`, never applied
 * again. It lives as long as the storage's volume: like the volume claims a StatefulSet makes, it
 * has no owner, so neither removing the storage nor deleting the product removes it (re-adding the
 * storage finds its data and the password that opens it); `dappmesh delete --purge-data` does.
 * Whose it is, its labels say (isCredentialsOf).
 */
export function credentialsSecret(product: Product, storage: Stored<DataStorage>, generate: () => string): Applied<Secret> {
  const {ownerReferences: _, ...metadata} = meta(product, secretName(product.metadata.name, storage.metadata.name), {[STORAGE_LABEL]: storage.metadata.name})
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    type: 'Opaque',
    stringData: {username: rootUser(storage), password: generate()},
  }
}

/**
 * The Secret of one per-access database user of a storage (storage/postgres-users.ts): what a
 * DataRole granting that access hands out (never the root user's). Like the credentials Secret it
 * is made once, has no owner and lasts as long as the volume (the role it opens lives in the
 * database there); the runtime's init container makes the role and sets its password from it, so
 * a new password written here is the rotation. Besides the user: where to connect.
 */
export function accessSecret(product: Product, storage: Stored<DataStorage>, access: AccessLevel, generate: () => string): Applied<Secret> {
  const name = product.metadata.name
  const {ownerReferences: _, ...metadata} = meta(product, accessSecretName(name, storage.metadata.name, access), {[STORAGE_LABEL]: storage.metadata.name, [ACCESS_LABEL]: access})
  const root = rootUser(storage)
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    type: 'Opaque',
    stringData: {
      username: accessRoleName(root, access),
      password: generate(),
      host: `${childName(name, storage.metadata.name)}.${product.metadata.namespace}.svc`,
      port: String(engineOf(storage).port),
      database: root,
      schema: name,
    },
  }
}

/** Every Secret a served storage has: its root credentials, and its per-access users' where the engine has them. */
export function storageSecrets(product: Product, storage: Stored<DataStorage>, generate: () => string): Array<{secret: Applied<Secret>; access?: AccessLevel}> {
  const secrets: Array<{secret: Applied<Secret>; access?: AccessLevel}> = [{secret: credentialsSecret(product, storage, generate)}]
  if (hasAccessUsers(storage)) for (const access of ACCESS_LEVELS) secrets.push({secret: accessSecret(product, storage, access, generate), access})
  return secrets
}

/**
 * Whether a live Secret is the credentials of this product's storage: made by the operator for it
 * (by its labels: only whoever may write Secrets in the namespace, who may read them all anyway,
 * can set them), and controlled by no one else.
 */
export function isCredentialsOf(secret: KubeObject | undefined, product: string, storage: string, access?: AccessLevel): boolean {
  const labels = secret?.metadata?.labels ?? {}
  const controlled = (secret?.metadata?.ownerReferences ?? []).some((ref) => ref.controller)
  return !controlled && labels[PRODUCT_LABEL] === product && labels[STORAGE_LABEL] === storage && labels[MANAGED_BY_LABEL] === FIELD_MANAGER && labels[ACCESS_LABEL] === access
}

/** Whether a child is a storage's credentials, which outlive the storage (credentialsSecret). */
export function isCredentials(child: KubeObject | undefined): boolean {
  return child?.kind === 'Secret' && child?.metadata?.labels?.[STORAGE_LABEL] !== undefined
}

/** Whether a storage is a server of its own (a StatefulSet); duckdb lives in the runtime's volume. */
export function isServedStorage(storage: Stored<DataStorage>): boolean {
  return storage.spec?.engine !== 'duckdb'
}

function engineOf(storage: Stored<DataStorage>): Engine {
  return ENGINE_IMAGES[storage.spec.engine] ?? ENGINE_IMAGES.postgresql
}

/**
 * The tier in which a reconcile applies each kind of child (as helm installs a chart: what pods
 * need before the workloads that start them): the children of one tier at once, the tiers one
 * after another, each tier only once the one before has been answered.
 * - 0, what the others refer to and which needs nothing itself: ServiceAccount, Secret, ConfigMap, Role.
 * - 1, what refers to tier 0 and what pods need from their first moment: RoleBinding, after its
 *   Role (from a client without `bind`, which the operator does not hold, RBAC refuses a binding to
 *   a Role that does not exist yet: operator-install/manifests.ts, tested in
 *   test/integration/reconcile-tiers.test.ts; the runtime's pods call the API server with it as
 *   they start); ClusterRoleBinding (of a built-in ClusterRole); NetworkPolicy (a pod started
 *   before its policy would accept any traffic for a moment); Service (a StatefulSet's governing
 *   Service, a port's).
 * - 2, the workloads: StatefulSet, Deployment, CronJob. A StatefulSet applied before its
 *   ServiceAccount has its pods refused until the next reconcile ("error looking up service
 *   account"), seen as FailedCreate warnings on a real node.
 * A Record over ChildKind: a kind of child in no tier, or in two, does not compile. The order of
 * the keys is the order of the kinds within a tier (APPLY_ORDER), which messages keep.
 */
const APPLY_TIER: Readonly<Record<ChildKind, 0 | 1 | 2>> = {
  ServiceAccount: 0,
  Secret: 0,
  ConfigMap: 0,
  Role: 0,
  RoleBinding: 1,
  ClusterRoleBinding: 1,
  NetworkPolicy: 1,
  Service: 1,
  StatefulSet: 2,
  Deployment: 2,
  CronJob: 2,
}

/** The kinds of child in the order they are applied: by tier, and within one as APPLY_TIER lists them. */
const APPLY_ORDER: readonly ChildKind[] = (Object.keys(APPLY_TIER) as ChildKind[]).sort((a, b) => APPLY_TIER[a] - APPLY_TIER[b])

/** The apply tier of a kind of child (see APPLY_TIER): a lower one is applied first. */
export function applyTier(kind: ChildKind): number {
  return APPLY_TIER[kind]
}

/** Children in APPLY_ORDER, each kind in the order it was made. */
export function inApplyOrder<T extends {kind: ChildKind}>(children: T[]): T[] {
  const rank = (kind: ChildKind) => APPLY_RANK.get(kind) ?? APPLY_ORDER.length
  // Array.prototype.sort is stable: each kind keeps the order it was made in.
  return [...children].sort((a, b) => rank(a.kind) - rank(b.kind))
}
const APPLY_RANK = new Map(APPLY_ORDER.map((kind, i) => [kind, i]))

/** Children in APPLY_ORDER, in their tiers (the first first; none empty): what one reconcile applies at once. */
export function inApplyTiers<T extends {kind: ChildKind}>(children: T[]): T[][] {
  const tiers: T[][] = []
  for (const child of inApplyOrder(children)) {
    const last = tiers.at(-1)
    if (last && applyTier(last[0].kind) === applyTier(child.kind)) last.push(child)
    else tiers.push([child])
  }
  return tiers
}

/**
 * Every child the product should have except the credentials Secrets, as server-side apply
 * configurations: only the fields dappmesh sets, so the comparison with the live object and the
 * apply itself are both about these fields alone.
 */
export function desiredChildren(state: ProductState, options: RuntimeOptions): Child[] {
  const {product} = state
  const name = product.metadata.name
  const selectorOf = (labels: Record<string, string>) => ({[PRODUCT_LABEL]: name, ...labels})
  const children: Child[] = []

  for (const storage of state.storages.filter(isServedStorage)) {
    const engine = engineOf(storage)
    const own = {[STORAGE_LABEL]: storage.metadata.name}
    const selector = selectorOf(own)
    const full = childName(name, storage.metadata.name)
    const secret = secretName(name, storage.metadata.name)
    children.push({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(product, full, own),
      spec: {
        replicas: storage.spec.replicas ?? 1,
        serviceName: full,
        selector: {matchLabels: selector},
        template: {
          metadata: {labels: {...productLabels(product), ...own}},
          spec: {
            ...podBasics(product, engine.uid),
            containers: [
              {
                name: storage.spec.engine,
                image: storage.spec.image ?? engine.image(storage.spec.version),
                ...(engine.args ? {args: engine.args} : {}),
                securityContext: containerSecurityContext(),
                resources: storageResources(storage),
                ports: [{name: 'data', containerPort: engine.port}],
                // Ready only once the engine accepts connections on its port: without a probe a
                // storage counts as ready as soon as its process starts, and on a real node the
                // product was reported Ready while Postgres was still running initdb. (The official
                // postgres image listens on no TCP port until its initialisation is done.)
                readinessProbe: {tcpSocket: {port: 'data'}, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3},
                env: [
                  {name: engine.userEnv, valueFrom: {secretKeyRef: {name: secret, key: 'username'}}},
                  {name: engine.passwordEnv, valueFrom: {secretKeyRef: {name: secret, key: 'password'}}},
                  ...Object.entries(engine.env ?? {}).map(([envName, value]) => ({name: envName, value})),
                ],
                volumeMounts: [{name: 'data', mountPath: engine.dataPath}],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: {name: 'data'},
            spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: storage.spec.size ?? '1Gi'}}},
          },
        ],
      },
    })
    children.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(product, full, own),
      spec: {clusterIP: 'None', selector, ports: [{name: 'data', port: engine.port, targetPort: engine.port}]},
    })
    children.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(product, full, own),
      spec: {
        podSelector: {matchLabels: selector},
        policyTypes: ['Ingress'],
        // The product's runtime only: it serves the data to everyone else, under the contracts and the DataRoles.
        ingress: [{from: [{podSelector: {matchLabels: {[PRODUCT_LABEL]: name, [COMPONENT_LABEL]: 'runtime'}}}], ports: [{protocol: 'TCP', port: engine.port}]}],
      },
    })
  }

  const contracts = new Map(state.contracts.map((c) => [c.metadata.name, c]))
  const ports = [...state.outputPorts.map((p) => ({port: p, image: p.spec.service?.image, number: p.spec.service?.port})), ...state.inputPorts.map((p) => ({port: p, image: p.spec.image, number: undefined}))]
  for (const {port, image, number} of ports) {
    const own = {[PORT_LABEL]: port.metadata.name}
    const full = childName(name, port.metadata.name)
    const contract = port.kind === 'OutputPort' && port.spec.contract ? contracts.get(port.spec.contract) : undefined
    if (contract?.spec?.document) {
      children.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: meta(product, `${full}-contract`, {...own, 'dappmesh.io/contract': contract.metadata.name}),
        data: {'contract.json': `${JSON.stringify(contract.spec.document, null, 2)}\n`},
      })
    }
    if (!image) continue
    const containerPort = number ?? DEFAULT_PORT
    const selector = selectorOf(own)
    children.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(product, full, own),
      spec: {
        replicas: 1,
        selector: {matchLabels: selector},
        template: {
          metadata: {labels: {...productLabels(product), ...own}},
          spec: {
            ...podBasics(product),
            containers: [
              {
                name: 'port',
                image,
                securityContext: containerSecurityContext(),
                resources: WORKLOAD_RESOURCES,
                ports: [{name: 'http', containerPort}],
                env: [
                  {name: 'DAPPMESH_PRODUCT', value: name},
                  {name: 'DAPPMESH_PORT', value: port.metadata.name},
                  {name: 'DAPPMESH_PORT_KIND', value: port.kind},
                ],
              },
            ],
          },
        },
      },
    })
    children.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(product, full, own),
      spec: {selector, ports: [{name: 'http', port: containerPort, targetPort: containerPort}]},
    })
  }

  const runtime: RuntimeContext = {
    name,
    // A DataProduct is namespaced: a stored one always has its namespace.
    namespace: product.metadata.namespace!,
    meta: (child, labels) => meta(product, child, labels),
    labels: (labels) => ({...productLabels(product), ...labels}),
    child: (local) => childName(name, local),
    storageService: (storage) => ({name: childName(name, storage.metadata.name), port: engineOf(storage).port}),
    secretName: (storage) => secretName(name, storage),
    accessSecretName: (storage, access) => accessSecretName(name, storage, access),
    credentialsVersion: state.credentialsVersion,
  }
  // Only a product with pods of its own (storages, ports with an image) needs the account they run as; the runtime has its own.
  if (children.some((c) => c.kind === 'StatefulSet' || c.kind === 'Deployment')) {
    children.push({apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(product, serviceAccountName(name), {}), automountServiceAccountToken: false})
  }
  children.push(...runtimeChildren(state, runtime, options))
  children.push(...roleChildren(state, children))
  return children
}

const RBAC = 'rbac.authorization.k8s.io'
/** On a Role: what its grants leave out, and why; the product's status shows it beside the Role. */
export const GRANT_NOTE_ANNOTATION = 'dappmesh.io/grant-note'

/** The subjects of a DataRole the operator refuses to bind, each with why (see refusedSubject). */
export function refusedSubjects(role: Stored<DataRole>): string[] {
  return (role.spec?.subjects ?? []).map((s: Subject) => refusedSubject(s)).filter((r): r is string => r !== undefined)
}

/**
 * Per DataRole a Role naming exactly the children its grants reach (by resourceNames, no
 * wildcards, read-only: src/core/model/grants.ts) and a RoleBinding of its subjects, without
 * Kubernetes' system identities. The admission policy already refuses a DataRole naming them or
 * granting more than its author holds; this is the second line, for roles that predate it.
 */
function roleChildren(state: ProductState, made: Child[]): Child[] {
  const {product} = state
  const name = product.metadata.name
  const exists = (kind: string, childName: string) => made.some((c) => c.kind === kind && c.metadata.name === childName)
  const result: Child[] = []
  const storages = new Map(state.storages.map((s) => [s.metadata.name, s]))
  for (const role of state.roles ?? []) {
    const rules: PolicyRule[] = []
    /** the engines of granted storages that have no per-access users: their grants give no credentials */
    const rootOnly: string[] = []
    for (const grant of role.spec?.grants ?? []) {
      const target: GrantTarget = grant.storage ? 'storage' : 'outputPort'
      // The schema makes a grant name exactly one of the two.
      const full = childName(name, grant[target] ?? '')
      // A child the product does not have (a data-only port, a missing storage) is named by no rule.
      const children: Record<GrantChild, {kind: string; name: string}> = {
        service: {kind: 'Service', name: full},
        workload: {kind: target === 'storage' ? 'StatefulSet' : 'Deployment', name: full},
        contract: {kind: 'ConfigMap', name: `${full}-contract`},
        credentials: {kind: 'Secret', name: accessSecretName(name, grant[target] ?? '', grant.access as AccessLevel)},
      }
      // The access user's Secret is made by the reconciler beside the storage, not among these children.
      let credentials = false
      if (target === 'storage') {
        if (!exists('StatefulSet', full)) continue
        credentials = hasAccessUsers(storages.get(grant.storage ?? ''))
        if (!credentials) rootOnly.push(storages.get(grant.storage ?? '')?.spec?.engine ?? 'unknown')
      }
      for (const permission of GRANT_PERMISSIONS[target][grant.access as Access] ?? []) {
        const child = children[permission.child]
        if (child.kind === 'Secret' ? credentials : exists(child.kind, child.name)) rules.push({apiGroups: [permission.apiGroup], resources: [permission.resource], resourceNames: [child.name], verbs: [permission.verb]})
      }
    }
    const own = {'dappmesh.io/role': role.metadata.name}
    const full = childName(name, role.metadata.name)
    const roleMeta = meta(product, full, own)
    if (rootOnly.length > 0) roleMeta.annotations = {[GRANT_NOTE_ANNOTATION]: storageGrantNote(rootOnly)}
    // An empty list is stored as none: leave it out, so the live Role compares equal.
    result.push({apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: roleMeta, ...(rules.length > 0 ? {rules} : {})})
    const subjects = (role.spec?.subjects ?? []).filter((s: Subject) => !refusedSubject(s))
    if (subjects.length === 0) continue
    result.push({
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: meta(product, full, own),
      roleRef: {apiGroup: RBAC, kind: 'Role', name: full},
      subjects: subjects.map((s: Subject) =>
        s.kind === 'ServiceAccount' ? {kind: 'ServiceAccount', name: s.name, namespace: s.namespace ?? product.metadata.namespace} : {kind: s.kind, name: s.name, apiGroup: RBAC},
      ),
    })
  }
  return result
}
