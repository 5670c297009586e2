import {execFileSync} from 'node:child_process'

/**
 * Small generated products for tests that need many of them (the steady state, faults): each a
 * DataProduct with one OutputPort serving an image (→ Deployment and Service) bound to an inline
 * DataContract (→ ConfigMap), and optionally one DataStorage (→ StatefulSet, headless Service,
 * credentials Secret and its database users' Secrets, NetworkPolicy). Written with kubectl, not `dappmesh apply`: cheap for 100.
 */
export interface LightProductOptions {
  /** the DataDomain every product names (made by lightDomain) */
  domain: string
  /** with a DataStorage (its StatefulSet needs a PersistentVolume to become Ready on kwok) */
  storage?: boolean
}

const API = 'dappmesh.io/v1alpha1'

export function lightDomain(name: string): any {
  return {apiVersion: API, kind: 'DataDomain', metadata: {name}, spec: {mesh: `${name}-mesh`, owner: 'test@example.com'}}
}

/** The objects of one product `name` in `namespace`. */
export function lightProduct(namespace: string, name: string, options: LightProductOptions): any[] {
  const labels = {'dappmesh.io/product': name}
  // Named as render names them: `<product>.<name>`, references staying local.
  const meta = (n: string) => ({name: `${name}.${n}`, namespace, labels})
  const objects: any[] = [
    {apiVersion: API, kind: 'DataProduct', metadata: {name, namespace}, spec: {domain: options.domain, owner: 'test@example.com', version: '1.0.0'}},
    {
      apiVersion: API,
      kind: 'DataContract',
      metadata: meta(`${name}-api`),
      spec: {specification: 'odcs', specificationVersion: '3.0.0', schema: 'orders@1.0.0/daily', document: {apiVersion: 'v3.0.0', kind: 'DataContract', id: `urn:test:${namespace}:${name}`, version: '1.0.0'}},
    },
    {apiVersion: API, kind: 'OutputPort', metadata: meta(`${name}-api`), spec: {entity: 'orders', type: 'api', schema: 'orders@1.0.0/daily', contract: `${name}-api`, service: {image: 'example.com/orders-api:1', port: 8080}}},
  ]
  if (options.storage) objects.push({apiVersion: API, kind: 'DataStorage', metadata: meta(`${name}-db`), spec: {class: 'operational', engine: 'postgresql', size: '1Gi'}})
  return objects
}

/** The kinds of lightChildren, for kubectl get. */
export const LIGHT_CHILD_KINDS = 'statefulsets,deployments,services,secrets,configmaps,networkpolicies,serviceaccounts,roles,rolebindings'

/** The namespaced children the operator makes of lightProduct(namespace, name), as Kind/name, sorted. */
export function lightChildren(name: string, options: {storage?: boolean} = {}): string[] {
  const port = `${name}--${name}-api`
  const runtime = `${name}-runtime`
  // The runtime (no flows, no duckdb storage: no volume to claim, Ready on kwok without one); its ClusterRoleBinding is cluster-scoped.
  const runtimeChildren = ['StatefulSet', 'Service', 'NetworkPolicy', 'ServiceAccount', 'Role', 'RoleBinding'].map((kind) => `${kind}/${runtime}`)
  const children = [`ConfigMap/${port}-contract`, `Deployment/${port}`, `Service/${port}`, `ServiceAccount/${name}-workloads`, ...runtimeChildren]
  if (options.storage) {
    const db = `${name}--${name}-db`
    // A postgresql storage: its root credentials, and a Secret per database user (read, write, admin).
    children.push(`StatefulSet/${db}`, `Service/${db}`, `Secret/${db}-credentials`, ...['read', 'write', 'admin'].map((access) => `Secret/${db}-${access}`), `NetworkPolicy/${db}`)
  }
  return children.sort()
}

/** kubectl apply of objects (in chunks, so a hundred products are a few calls). */
export function kubectlApply(kubeconfig: string, objects: any[]): void {
  for (let i = 0; i < objects.length; i += 200) {
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects.slice(i, i + 200)}), stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 26})
  }
}

/**
 * hostPath PersistentVolumes for claims without a storage class (kwok has no provisioner). With
 * `claims`, volume i is bound ahead to claim i (claimRef): on the cluster the whole suite shares,
 * a claim another test left Pending would otherwise take a volume made for this one.
 */
export function persistentVolumes(prefix: string, count: number, size = '1Gi', claims: Array<{namespace: string; name: string}> = []): any[] {
  return Array.from({length: count}, (_, i) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {name: `${prefix}-${i}`, labels: {'dappmesh.io/test': 'true'}},
    spec: {
      capacity: {storage: size},
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      hostPath: {path: `/tmp/${prefix}-${i}`},
      ...(claims[i] && {claimRef: {namespace: claims[i].namespace, name: claims[i].name}}),
    },
  }))
}
