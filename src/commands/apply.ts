import {Args, Flags} from '@oclif/core'

import {type ApplyResult, applyProducts} from '../core/apply/apply.js'
import {BaseCommand} from '../core/cli/base-command.js'
import {kubeFlags, parseDuration} from '../core/cli/kube-flags.js'

export default class Apply extends BaseCommand {
  static override summary = 'Install or upgrade a data product in a cluster.'
  static override description = `Validates the project (an invalid one applies nothing), installs or upgrades the dappmesh CRDs when they are missing or older than this dappmesh, creates the domain's namespace, checks every object with a server-side dry run (so a conflict or an admission error writes nothing of the product), then server-side applies everything with field manager "dappmesh": the DataProduct (which records the inventory of what the product owns), then the product's resources concurrently. A second apply of an unchanged project writes nothing and reports every object unchanged.

The DataMesh, the DataDomain and the domain's namespace are shared by every product of the mesh and belong to the platform project (dappmesh init mesh). A product's apply creates them when they do not exist yet and never changes them when they do: when the product's copy differs from the cluster's, it says so and leaves the cluster's as it is. Applying the platform project (a directory with the DataMesh and DataDomains and no DataProduct) is what changes them.

In the cluster a product's resources are named <product>.<name>, so that two products of a domain may use the same names; the output shows the project's names.

--prune deletes product resources that left the project: only objects listed in the product's previous inventory that still carry its label, never the shared mesh or domain. --wait watches the DataProduct until its Ready condition is True for the applied generation; on timeout it exits 4 and says what is not ready and why.

Exit codes: 0 applied, 1 invalid project, conflict or refusal, 2 usage, 3 cluster unreachable, 4 timed out waiting.`

  static override examples = [
    {description: 'Apply the product in the current directory', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'See what the server would do, change nothing', command: '<%= config.bin %> <%= command.id %> ./orders --dry-run=server'},
    {description: 'Remove what left the project and wait until Ready', command: '<%= config.bin %> <%= command.id %> --prune --wait --timeout 5m'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory of the data product (or of the platform project); give several to apply a mesh of products in one go', default: '.', exists: false}),
  }

  // Several directories may follow: `dappmesh apply products/*`.
  static override strict = false

  static override flags = {
    ...kubeFlags,
    'dry-run': Flags.string({description: 'client: render and check locally; server: the API server checks everything and persists nothing', options: ['none', 'client', 'server'], default: 'none'}),
    'force-conflicts': Flags.boolean({description: 'take over fields that another field manager owns'}),
    prune: Flags.boolean({description: 'delete product resources that are no longer in the project'}),
    'install-crds': Flags.boolean({description: 'install or upgrade the CRDs when missing or older', default: true, allowNo: true}),
    wait: Flags.boolean({description: 'wait until the DataProduct is Ready'}),
    timeout: Flags.string({description: 'how long --wait (and CRD installation) may take', default: '5m', helpValue: 'DURATION'}),
    concurrency: Flags.integer({description: 'requests in flight at once', default: 16, min: 1, max: 64}),
  }

  async run(): Promise<ApplyResult | {products: ApplyResult[]}> {
    const {argv, flags} = await this.parse(Apply)
    const dirs = argv.length > 0 ? (argv as string[]) : ['.']
    const timeoutMs = parseDuration(flags.timeout)
    if (flags.namespace) this.warn('--namespace is ignored by apply: a product lives in its domain\'s namespace (DataDomain spec.namespace)')
    const results = await applyProducts(dirs, {
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      dryRun: flags['dry-run'] as ApplyResult['dryRun'],
      forceConflicts: flags['force-conflicts'],
      prune: flags.prune,
      installCrds: flags['install-crds'],
      wait: flags.wait,
      timeoutMs,
      concurrency: flags.concurrency,
      onProgress: (m) => process.stderr.write(`${m}\n`),
    })
    for (const result of results) this.report(result)
    return results.length === 1 ? results[0] : {products: results}
  }

  private report(result: ApplyResult): void {
    for (const warning of result.warnings) this.warn(warning)
    if (!this.jsonEnabled()) {
      const suffix = result.dryRun === 'none' ? '' : ` (dry run: ${result.dryRun})`
      for (const o of result.objects) this.log(`${o.kind.toLowerCase()}/${o.name} ${o.action}${suffix}`)
      const counts = new Map<string, number>()
      for (const o of result.objects) counts.set(o.action, (counts.get(o.action) ?? 0) + 1)
      this.log(`${result.platform ? 'platform' : result.product}: ${[...counts].map(([a, n]) => `${n} ${a}`).join(', ')}${result.crds !== 'skipped' && result.crds !== 'current' ? `; CRDs ${result.crds}` : ''}${result.ready ? '; Ready' : ''}${suffix}`)
    }
  }
}
