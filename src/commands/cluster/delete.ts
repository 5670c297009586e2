import {Flags} from '@oclif/core'

import {BaseCommand} from '../../core/cli/base-command.js'
import {progress} from '../../core/cli/progress.js'
import {type DeleteClusterResult, deleteCluster} from '../../core/cluster/delete.js'
import {PROVIDERS, type ProviderName} from '../../core/cluster/provider.js'

export default class ClusterDelete extends BaseCommand {
  static override summary = 'Delete a local cluster made by dappmesh cluster create, and its kubeconfig context.'
  static override description = `Stops every process (kwok, local) or container (kind) of the cluster (local: also its containers, mounts, cgroups, network interface and iptables rules; the image registry stops with the last local cluster, its images stay) and removes the context dappmesh-<name> (or --context) from the kubeconfig.

Exit codes: 0 deleted, 1 no such cluster or deletion failed.`

  static override examples = [
    {description: 'Delete the default cluster', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Delete a named kwok cluster', command: '<%= config.bin %> <%= command.id %> --name dev --provider kwok'},
  ]

  static override flags = {
    name: Flags.string({description: 'cluster name', default: 'dappmesh'}),
    provider: Flags.string({description: 'only look among this provider\'s clusters', options: [...PROVIDERS]}),
    kubeconfig: Flags.string({description: 'kubeconfig file to remove the context from (default: $KUBECONFIG, else ~/.kube/config)'}),
    context: Flags.string({description: 'name of the context to remove (default: dappmesh-<name>)'}),
  }

  async run(): Promise<DeleteClusterResult> {
    const {flags} = await this.parse(ClusterDelete)
    const bar = progress()
    bar.step(`deleting cluster ${flags.name}`)
    try {
      const result = await deleteCluster({name: flags.name, provider: flags.provider as ProviderName | undefined, kubeconfig: flags.kubeconfig, context: flags.context})
      bar.done()
      this.log(`${result.provider} cluster ${result.name} deleted${result.contextRemoved ? `; context ${result.context} removed from ${result.kubeconfig}` : ''}`)
      return result
    } catch (error) {
      bar.fail()
      throw error
    }
  }
}
