import {Flags} from '@oclif/core'

import {BaseCommand} from '../../core/cli/base-command.js'
import {progress} from '../../core/cli/progress.js'
import {type CreateClusterResult, createCluster} from '../../core/cluster/create.js'
import {PROVIDERS, type ProviderName} from '../../core/cluster/provider.js'
import {parseDuration} from '../../core/duration.js'

export default class ClusterCreate extends BaseCommand {
  static override summary = 'Create a local Kubernetes cluster with the dappmesh CRDs installed.'
  static override description = `Providers:
  kind  real nodes as Docker containers (needs kind and a running Docker engine)
  kwok  a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) as local processes, with nodes and pods simulated by kwok; no Docker, no root. The binaries are built from source with Go on first use (10–20 minutes on two cores) and cached in ~/.cache/dappmesh (DAPPMESH_CACHE).
  local a real node on this machine beside kwok's control plane: containerd, runc, a bridge CNI, kubelet, kube-proxy (iptables) and CoreDNS run as processes, so pods really run. Needs root, runc and Debian's containernetworking-plugins and docker-registry (exit 2 names what is missing). Images come from a local registry on 127.0.0.1:5001 (storage ~/.cache/dappmesh/registry, kept across clusters) that the node uses as the mirror of docker.io: push postgres:16 there as 127.0.0.1:5001/library/postgres:16. Pod traffic stays on this machine. One local cluster per machine. --nodes adds simulated kwok nodes beside the real one (default none), tainted kwok.x-k8s.io/node=fake:NoSchedule so that pods run on the real node only.
Without --provider, kind is used when \`docker info\` answers, else kwok.

The cluster gets a context named dappmesh-<name> (or --context) in the kubeconfig (--kubeconfig, else the first file of $KUBECONFIG, else ~/.kube/config), which becomes the current context. Then the dappmesh CRDs are installed by server-side apply and awaited until Established. kwok has no storage provisioner, so a kwok cluster also gets a default StorageClass standard and 64 pre-made PersistentVolumes of 100Gi that the control plane binds to claims (a DataStorage's StatefulSet needs them to become Ready); nothing is written to them. A local cluster gets 32 such volumes, each a directory under ~/.cache/dappmesh/local/nodes/<name>/volumes on its node, where the data really lands.

Exit codes: 0 created, 1 failed (a tool is missing, the name is taken), 3 the new cluster cannot be reached, 4 not ready within --wait.`

  static override examples = [
    {description: 'A cluster without Docker', command: '<%= config.bin %> <%= command.id %> --provider kwok --name dev'},
    {description: 'A cluster whose pods really run, without Docker (as root)', command: '<%= config.bin %> <%= command.id %> --provider local --name dev'},
    {description: 'A kind cluster, kubeconfig in a file of its own', command: '<%= config.bin %> <%= command.id %> --provider kind --name ci --kubeconfig ./kubeconfig --wait 10m'},
    {description: 'Machine-readable result', command: '<%= config.bin %> <%= command.id %> --name dev --json'},
  ]

  static override flags = {
    provider: Flags.string({description: 'kind (Docker), kwok (local processes, simulated nodes) or local (a real node here, as root); default: kind when Docker answers, else kwok', options: [...PROVIDERS]}),
    name: Flags.string({description: 'cluster name (lower case, digits, -)', default: 'dappmesh'}),
    wait: Flags.string({description: 'how long to wait for the cluster and its CRDs', default: '5m', helpValue: 'DURATION'}),
    nodes: Flags.integer({description: 'kwok: number of simulated nodes (default 3); local: simulated nodes beside the real one, tainted NoSchedule (default 0)', min: 0}),
    kubeconfig: Flags.string({description: 'kubeconfig file to write the context into (default: $KUBECONFIG, else ~/.kube/config)'}),
    context: Flags.string({description: 'name of the context to write (default: dappmesh-<name>)'}),
  }

  async run(): Promise<CreateClusterResult> {
    const {flags} = await this.parse(ClusterCreate)
    const waitMs = parseDuration(flags.wait)
    const bar = progress()
    try {
      const result = await createCluster({
        name: flags.name,
        provider: flags.provider as ProviderName | undefined,
        waitMs,
        nodes: flags.nodes,
        kubeconfig: flags.kubeconfig,
        context: flags.context,
        onProgress: (message) => bar.step(message),
      })
      bar.done()
      this.log(`${result.provider} cluster ${result.name} is ready: context ${result.context} in ${result.kubeconfig} (${result.server}, Kubernetes ${result.kubernetesVersion}), ${result.crds.length} CRDs installed${result.volumes === undefined ? '' : `, ${result.volumes} volumes`}`)
      return result
    } catch (error) {
      bar.fail()
      throw error
    }
  }
}
