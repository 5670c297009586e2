import {Flags} from '@oclif/core'

import {BaseCommand} from '../../core/cli/base-command.js'
import {kubeFlags, parseDuration} from '../../core/cli/kube-flags.js'
import {UsageError} from '../../core/errors.js'
import {type InstallResult, installOperator} from '../../core/operator-install/install.js'
import {type OperatorManifest, defaultImage, operatorManifests} from '../../core/operator-install/manifests.js'
import {toYamlStream} from '../../core/render/yaml.js'

export default class OperatorInstall extends BaseCommand {
  static override summary = 'Deploy the dappmesh operator into the cluster.'
  static override description = `Installs or upgrades the dappmesh CRDs, then server-side applies (field manager dappmesh-install): the namespace dappmesh-system; the ServiceAccount dappmesh-operator; a least-privilege ClusterRole (explicit resources and verbs for exactly what the reconcilers read and write, no wildcards) and its ClusterRoleBinding; a Role and RoleBinding for the leader election Lease in dappmesh-system; a Role and RoleBinding that let every ServiceAccount get the catalog's ConfigMaps (the index dappmesh-catalog and the shards dappmesh-catalog-00 to -63, nothing else); and the Deployment dappmesh-operator, which runs "dappmesh operator run --leader-elect" as a non-root user with a read-only root filesystem, resource requests and limits, and liveness and readiness probes on /healthz and /readyz.

Installing again changes nothing unless this version's manifests differ. The operator's image must be pullable by the cluster: build it from the repository's Containerfile (the default tag is dappmesh:<version of this CLI>) or pass --image. The same image runs every product's runtime (dappmesh serve) and workflow triggers; --runtime-image gives them another.

--dry-run prints the manifests as YAML (for GitOps or kubectl) and contacts no cluster; the CRDs are printed by "dappmesh crds". --wait watches until the Deployment is Available.

Exit codes: 0 installed, 1 refused (installing needs cluster-admin rights), 2 usage, 3 cluster unreachable, 4 timed out waiting.`

  static override examples = [
    {description: 'Install the operator into the current context', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Install an image from your registry and wait until it runs', command: '<%= config.bin %> <%= command.id %> --image registry.example.com/dappmesh:0.1.0 --wait'},
    {description: 'Print the manifests instead', command: '<%= config.bin %> <%= command.id %> --dry-run > operator.yaml'},
  ]

  static override flags = {
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
    image: Flags.string({description: 'the dappmesh image the operator runs, and its product runtimes unless --runtime-image (default: dappmesh:<version of this CLI>)', helpValue: 'IMAGE'}),
    'runtime-image': Flags.string({description: "the image of the products' runtimes (default: the operator's --image)", helpValue: 'IMAGE'}),
    'dry-run': Flags.boolean({description: 'print the manifests as YAML; install nothing'}),
    wait: Flags.boolean({description: 'wait until the operator Deployment is available'}),
    timeout: Flags.string({description: 'how long --wait may take', default: '2m', helpValue: 'DURATION'}),
  }

  async run(): Promise<InstallResult | {dryRun: true; image: string; manifests: OperatorManifest[]}> {
    const {flags} = await this.parse(OperatorInstall)
    const timeoutMs = parseDuration(flags.timeout)
    if (timeoutMs === undefined) throw new UsageError(`--timeout ${flags.timeout} is not a duration`, ['Use a duration such as 90s, 5m or 1h.'])
    const image = flags.image ?? defaultImage(this.config.version)
    if (flags['dry-run']) {
      const manifests = operatorManifests({image, runtimeImage: flags['runtime-image'], version: this.config.version})
      if (!this.jsonEnabled()) this.log(toYamlStream(manifests))
      return {dryRun: true, image, manifests}
    }
    const result = await installOperator({
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      image,
      runtimeImage: flags['runtime-image'],
      version: this.config.version,
      wait: flags.wait,
      timeoutMs,
      onProgress: (m) => {
        if (!this.jsonEnabled()) process.stderr.write(`${m}\n`)
      },
    })
    if (!this.jsonEnabled()) {
      const changed = result.objects.filter((o) => o.action !== 'unchanged').length
      this.log(`operator ${image} installed in dappmesh-system: ${changed === 0 ? 'nothing changed' : `${changed} of ${result.objects.length} objects created or configured`}${result.available ? ', available' : ''}`)
    }
    return result
  }
}
