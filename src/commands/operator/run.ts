import {Flags} from '@oclif/core'

import {BaseCommand} from '../../core/cli/base-command.js'
import {kubeFlags} from '../../core/cli/kube-flags.js'
import type {OperatorResult} from '../../core/reconcile/operator.js'
import {runOperatorFromFlags} from '../../core/reconcile/run-flags.js'

export default class OperatorRun extends BaseCommand {
  static override summary = 'Run the dappmesh reconcile loops on this machine until interrupted.'
  static override description = `Watches the cluster of the current context (list, then watch: no polling) and reconciles each DataDomain (its Namespace, a default-deny ingress NetworkPolicy, with a quota a ResourceQuota and a LimitRange of default requests, and per governance rule of its mesh a ValidatingAdmissionPolicy and binding that make the API server refuse what validate refuses) and each DataProduct: its runtime, a StatefulSet <product>-runtime running "dappmesh serve" from --runtime-image with its duckdb storages as its volume, its own ServiceAccount (reading the product's resources, reviewing callers' tokens), a Service, a Service per output port it serves and a NetworkPolicy; per DataStorage of a server engine (postgresql, minio, ...) a StatefulSet, a headless Service, a credentials Secret (generated once, never overwritten; for postgresql also one per database user: read, write, admin) and a NetworkPolicy admitting only the runtime; per port with its own image a Deployment and a Service; per output port with a contract a ConfigMap holding it; per scheduled DataWorkflow a CronJob that runs "dappmesh workflow trigger" against the runtime. Every child is server-side applied (field manager dappmesh-operator) and owned by its DataProduct; the DataProduct's status carries the conditions Ready, Reconciling, Degraded and ReferencesResolved and the readiness of each component.

By default the operator reconciles the whole cluster. -n/--namespace (repeatable or comma-separated) confines it to those namespaces, like kubebuilder's watch-namespace: only DataProducts there, only DataDomains whose namespace is one of them, and every namespaced watch is made per namespace, so nothing elsewhere is read or written. The mesh loop counts and catalogues the whole cluster, so with --namespace it is left out (and --only mesh is refused). -l/--selector (a label selector, e.g. team=sales or tier in (gold,silver)) confines each loop to the DataMeshes, DataDomains and DataProducts whose labels match; their children are found through their owners as usual. Both together: the DataProducts in those namespaces with those labels. Give each scoped operator that uses --leader-elect its own --leader-election-namespace, or they wait on one another's lease.

With --leader-elect several operators may run against one cluster: only the holder of the coordination.k8s.io Lease dappmesh-operator reconciles; the others wait and take over when it stops (at once when it stops gracefully and releases the lease, otherwise after the lease's 15 s expire).

Installs or upgrades the dappmesh CRDs first when they are missing or older (--no-install-crds: fail instead). Stops gracefully on SIGINT or SIGTERM, finishing the reconciles in progress. --health-port serves /healthz and /readyz (and /metrics unless --metrics-port is given); port 0 picks a free port, said on stderr.

The mesh loop keeps each DataMesh's status (how many domains and products it has) and publishes the catalog in dappmesh-system: every output port with its contract id and version and the products that consume it, in shards (ConfigMaps dappmesh-catalog-NN, each holding the products whose name hashes to it, split once one would exceed 256 KiB or $DAPPMESH_CATALOG_SHARD_BYTES) listed by the index ConfigMap dappmesh-catalog; a change to one product rewrites only its shard.

A leader writes only while it surely holds the lease: when it cannot renew within the renew deadline (10 s, before the 15 s lease can expire for anyone else) every write is refused, /healthz fails and the operator exits 1. /healthz also fails when a loop has made no progress for 2 minutes (reconciles hanging, a watch failing). Requests to the API server are limited on the client side (--kube-qps, --kube-burst); a watch that receives nothing, not even a bookmark, for $DAPPMESH_WATCH_IDLE_TIMEOUT seconds (default 150) is restarted from where it was.

Exit codes: 0 stopped by a signal, 1 lost the leadership, 2 usage, 3 cluster unreachable.`

  static override examples = [
    {description: 'Reconcile against the current context', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Only the products and domains of two namespaces', command: '<%= config.bin %> <%= command.id %> -n sales -n finance'},
    {description: 'Only what is labelled team=sales', command: "<%= config.bin %> <%= command.id %> -l 'team=sales'"},
    {description: 'Only the product loop, with health and metrics endpoints', command: '<%= config.bin %> <%= command.id %> --only product --health-port 8081 --metrics-port 8080'},
  ]

  static override flags = {
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
    namespace: Flags.string({char: 'n', description: 'reconcile only in this namespace (repeatable, or comma-separated); default: every namespace', helpValue: 'NAMESPACE', multiple: true}),
    selector: Flags.string({char: 'l', description: 'reconcile only the DataMeshes, DataDomains and DataProducts matching this label selector', helpValue: 'SELECTOR'}),
    only: Flags.string({description: 'comma-separated loops to run: mesh, domain, product (default: all available)', helpValue: 'LOOPS'}),
    'health-port': Flags.integer({description: 'serve /healthz and /readyz on this port (0: any free port)', min: 0, max: 65_535}),
    'metrics-port': Flags.integer({description: 'serve Prometheus /metrics on this port (default: on the health port)', min: 0, max: 65_535}),
    'bind-address': Flags.string({description: 'address the health and metrics servers listen on', default: '127.0.0.1'}),
    concurrency: Flags.integer({description: 'products reconciled at once', default: 2, min: 1, max: 64}),
    'leader-elect': Flags.boolean({description: 'reconcile only while holding the Lease dappmesh-operator, so several operators can run and one writes'}),
    'leader-election-namespace': Flags.string({description: 'namespace of the leader election Lease (created when missing)', default: 'dappmesh-system'}),
    'runtime-image': Flags.string({description: "the dappmesh image each product's runtime and workflow triggers run (default: dappmesh:<version of this CLI>)", env: 'DAPPMESH_RUNTIME_IMAGE', helpValue: 'IMAGE'}),
    'kube-qps': Flags.integer({description: 'requests a second to the API server on average (client-side limit; default $DAPPMESH_KUBE_QPS, else 50)', min: 1, helpValue: 'N'}),
    'kube-burst': Flags.integer({description: 'requests to the API server at once before --kube-qps applies (default $DAPPMESH_KUBE_BURST, else 100)', min: 1, helpValue: 'N'}),
    'install-crds': Flags.boolean({description: 'install or upgrade the CRDs first when missing or older', default: true, allowNo: true}),
  }

  async run(): Promise<OperatorResult> {
    const {flags} = await this.parse(OperatorRun)
    return runOperatorFromFlags(flags, this.config.version)
  }
}
