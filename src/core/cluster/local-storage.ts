import {objectPath} from '../kube/paths.js'
import type {KubeRest} from '../kube/rest.js'
import type {PersistentVolume, StorageClass, Typed} from '../kube/types.js'

/**
 * Volumes for a kwok cluster. kwok simulates nodes and pods but has no storage provisioner, so a
 * StatefulSet's PersistentVolumeClaims would stay Pending and its pods unscheduled: a DataStorage
 * could never become Ready. `cluster create` therefore gives a kwok cluster a default
 * StorageClass `standard` and a pool of pre-made PersistentVolumes of that class, which the
 * control plane's own PV controller binds to claims as it would on a real cluster. Nothing is
 * ever written to them (kwok's pods do not run).
 */
export const LOCAL_STORAGE_CLASS = 'standard'
export const DEFAULT_LOCAL_VOLUMES = 64
/** A real node's volumes are directories that cluster/local-up.sh makes (DAPPMESH_LOCAL_VOLUMES). */
export const NODE_LOCAL_VOLUMES = 32
const VOLUME_SIZE = '100Gi'
const FIELD_MANAGER = 'dappmesh-cluster'

/**
 * On a real node (provider local) each volume is a directory the node made under its own directory
 * (cluster/local-up.sh), bound to that node, so a pod's data really lands on disk and stays there
 * when the pod is replaced.
 */
export interface NodeVolumes {
  /** the directory that holds volume-1 ... volume-N */
  dir: string
  /** the node they are on */
  node: string
}

export function localStorageObjects(cluster: string, volumes: number, onNode?: NodeVolumes): [Typed<StorageClass>, ...Array<Typed<PersistentVolume>>] {
  const labels = {'app.kubernetes.io/managed-by': 'dappmesh', 'dappmesh.io/local-storage': 'true'}
  const storageClass: Typed<StorageClass> = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {name: LOCAL_STORAGE_CLASS, labels, annotations: {'storageclass.kubernetes.io/is-default-class': 'true'}},
    provisioner: 'kubernetes.io/no-provisioner',
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'Immediate',
  }
  const pvs = Array.from({length: volumes}, (_, i): Typed<PersistentVolume> => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {name: `dappmesh-local-${String(i + 1).padStart(3, '0')}`, labels},
    spec: {
      storageClassName: LOCAL_STORAGE_CLASS,
      capacity: {storage: VOLUME_SIZE},
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      ...(onNode
        ? {
            hostPath: {path: `${onNode.dir}/volume-${i + 1}`, type: 'Directory'},
            nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: [onNode.node]}]}]}},
          }
        : {hostPath: {path: `/var/lib/dappmesh-kwok/${cluster}/volume-${i + 1}`}}),
    },
  }))
  return [storageClass, ...pvs]
}

/** Applies the StorageClass and volumes (server-side, so a second run changes nothing). */
export async function installLocalStorage(rest: KubeRest, cluster: string, volumes = DEFAULT_LOCAL_VOLUMES, onNode?: NodeVolumes): Promise<number> {
  const objects = localStorageObjects(cluster, volumes, onNode)
  await rest.apply(objectPath(objects[0]), objects[0], {fieldManager: FIELD_MANAGER, force: true})
  await Promise.all(objects.slice(1).map((o) => rest.apply(objectPath(o), o, {fieldManager: FIELD_MANAGER, force: true})))
  return volumes
}
