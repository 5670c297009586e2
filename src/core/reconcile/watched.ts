import type {ClusterRoleBinding, ConfigMap, CronJob, Deployment, LimitRange, Namespace, NetworkPolicy, ResourceQuota, Role, RoleBinding, Secret, Service, ServiceAccount, StatefulSet, Stored, Typed, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding} from '../kube/types.js'
import type {DataContract, DataDomain, DataFlow, DataMesh, DataProduct, DataRole, DataStorage, DataWorkflow, InputPort, OutputPort} from '../model/types.js'

/**
 * What each informer of the operator holds, by the name its WatchSpec gives it: the one place
 * that ties a watched collection to its type, so `ctx.informer('DataProduct').get(key)` is a
 * DataProduct and a reconciler never reads an untyped object. A cache's objects carry their
 * apiVersion and kind (the informer gives list items those of their list).
 */
export interface Watched {
  DataMesh: Typed<Stored<DataMesh>>
  DataDomain: Typed<Stored<DataDomain>>
  DataProduct: Typed<Stored<DataProduct>>
  DataStorage: Typed<Stored<DataStorage>>
  OutputPort: Typed<Stored<OutputPort>>
  InputPort: Typed<Stored<InputPort>>
  DataWorkflow: Typed<Stored<DataWorkflow>>
  DataContract: Typed<Stored<DataContract>>
  DataFlow: Typed<Stored<DataFlow>>
  DataRole: Typed<Stored<DataRole>>
  Namespace: Typed<Namespace>
  StatefulSet: Typed<StatefulSet>
  Deployment: Typed<Deployment>
  Service: Typed<Service>
  Secret: Typed<Secret>
  ConfigMap: Typed<ConfigMap>
  ServiceAccount: Typed<ServiceAccount>
  NetworkPolicy: Typed<NetworkPolicy>
  CronJob: Typed<CronJob>
  Role: Typed<Role>
  RoleBinding: Typed<RoleBinding>
  ClusterRoleBinding: Typed<ClusterRoleBinding>
  ResourceQuota: Typed<ResourceQuota>
  LimitRange: Typed<LimitRange>
  ValidatingAdmissionPolicy: Typed<ValidatingAdmissionPolicy>
  ValidatingAdmissionPolicyBinding: Typed<ValidatingAdmissionPolicyBinding>
  /** the mesh loop's own output, watched so a hand edit is put right */
  CatalogConfigMap: Typed<ConfigMap>
}

export type WatchedName = keyof Watched
