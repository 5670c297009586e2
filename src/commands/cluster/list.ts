import {BaseCommand} from '../../core/cli/base-command.js'
import {formatTable} from '../../core/cli/table.js'
import {contextNameFor} from '../../core/cluster/create.js'
import {listClusters} from '../../core/cluster/list.js'
import type {ClusterListResult} from '../../core/cluster/result-schema.js'

export default class ClusterList extends BaseCommand {
  static override summary = 'List the local clusters of every provider (kwok, kind, local).'
  static override description = `kwok clusters are those in dappmesh's kwok workdir (~/.cache/dappmesh/kwok, or DAPPMESH_KWOK_WORKDIR); STATUS is running when every component process is alive. kind clusters are listed when kind is on PATH.`

  static override examples = [
    {description: 'As a table', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'As JSON', command: '<%= config.bin %> <%= command.id %> --json'},
  ]

  async run(): Promise<ClusterListResult> {
    await this.parse(ClusterList)
    const clusters = (await listClusters()).map((cluster) => ({...cluster, context: contextNameFor(cluster.name)}))
    if (clusters.length === 0) this.log('no clusters; create one with: dappmesh cluster create')
    else this.log(formatTable(['NAME', 'PROVIDER', 'STATUS', 'CONTEXT'], clusters.map((cluster) => [cluster.name, cluster.provider, cluster.status, cluster.context])))
    return {clusters}
  }
}
