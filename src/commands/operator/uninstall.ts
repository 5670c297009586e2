import {BaseCommand} from '../../core/cli/base-command.js'
import {kubeFlags} from '../../core/cli/kube-flags.js'
import {type UninstallResult, uninstallOperator} from '../../core/operator-install/install.js'

export default class OperatorUninstall extends BaseCommand {
  static override summary = 'Remove the dappmesh operator from the cluster.'
  static override description = `Deletes what "dappmesh operator install" made: the ClusterRoleBinding and ClusterRole dappmesh-operator, then the namespace dappmesh-system with everything in it (the operator Deployment, its ServiceAccount, the leader election Lease, the mesh catalog). The CRDs and every mesh, domain and product stay: deleting the CRDs would delete them all.

Exit codes: 0 removed (or nothing to remove), 1 refused, 3 cluster unreachable.`

  static override examples = [{description: 'Remove the operator from the current context', command: '<%= config.bin %> <%= command.id %>'}]

  static override flags = {
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
  }

  async run(): Promise<UninstallResult> {
    const {flags} = await this.parse(OperatorUninstall)
    const result = await uninstallOperator({
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      onProgress: (m) => {
        if (!this.jsonEnabled()) process.stderr.write(`${m}\n`)
      },
    })
    if (!this.jsonEnabled()) this.log(result.deleted.length === 0 ? 'the operator was not installed' : 'operator removed; the CRDs and the products stay')
    return result
  }
}
