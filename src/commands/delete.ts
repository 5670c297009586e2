import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {kubeFlags, parseDuration} from '../core/cli/kube-flags.js'
import {type DeleteResult, deleteProduct} from '../core/delete/delete.js'
import {UsageError} from '../core/errors.js'
import {resolveProductRef} from '../core/project/product-ref.js'

export default class Delete extends BaseCommand {
  static override summary = 'Delete a data product\'s resources from the cluster.'
  static override description = `Deletes the DataProduct and every resource of the product in its namespace: those carrying its label and those its inventory lists. Never the shared DataMesh or DataDomain, never the namespace. What the operator made for the product is owned by these resources and goes with them, except its data: the volume claims of its storages and runtime, and its storages' credentials Secrets, stay (a product of the same name, or a storage added again, takes them up with the data intact). --purge-data deletes them too, once the product and its storages are gone (so that no reconcile in flight makes a Secret again; it waits for that, up to --timeout); it also removes the data a product deleted earlier left behind (give -n).

PRODUCT is a product name or a project directory; by default, the project around the current directory. A name is looked up in every namespace unless -n is given.

--dry-run has the API server check every deletion and removes nothing. --wait watches until the product and its children are gone (finalizers included); on timeout it exits 4 naming what remains.

Exit codes: 0 deleted, 1 not found or refused, 2 usage, 3 cluster unreachable, 4 timed out waiting.`

  static override examples = [
    {description: 'Delete the product in the current directory', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'See what would be deleted', command: '<%= config.bin %> <%= command.id %> orders -n sales --dry-run'},
    {description: 'Delete and wait until everything is gone', command: '<%= config.bin %> <%= command.id %> ./orders --wait --timeout 2m'},
    {description: 'Delete the product and its data (volumes and credentials)', command: '<%= config.bin %> <%= command.id %> orders -n sales --purge-data'},
  ]

  static override args = {
    product: Args.string({description: 'product name or project directory (default: the project around the current directory)'}),
  }

  static override flags = {
    ...kubeFlags,
    'dry-run': Flags.boolean({description: 'have the server check each deletion; delete nothing'}),
    'purge-data': Flags.boolean({description: 'also delete the product\'s data: its volume claims and its storages\' credentials Secrets (kept otherwise)'}),
    wait: Flags.boolean({description: 'wait until the product and its children are gone'}),
    timeout: Flags.string({description: 'how long --wait may take', default: '5m', helpValue: 'DURATION'}),
  }

  async run(): Promise<DeleteResult> {
    const {args, flags} = await this.parse(Delete)
    const timeoutMs = parseDuration(flags.timeout)
    if (timeoutMs === undefined) throw new UsageError(`--timeout ${flags.timeout} is not a duration`, ['Use a duration such as 90s, 5m or 1h.'])
    const ref = await resolveProductRef(args.product, {namespace: flags.namespace})
    const result = await deleteProduct({
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      ref,
      dryRun: flags['dry-run'],
      purgeData: flags['purge-data'],
      wait: flags.wait,
      timeoutMs,
      // Deletions on stdout as they happen (so a --wait that times out has said what went), the rest on stderr.
      onProgress: (m) => {
        if (this.jsonEnabled()) return
        const deleted = / deleted( \(dry run\))?$/.test(m)
        if (deleted) this.log(m.replace(/^[^/]+/, (kind) => kind.toLowerCase()))
        else process.stderr.write(`${m}\n`)
      },
    })
    for (const warning of result.warnings) this.warn(warning)
    if (!this.jsonEnabled()) {
      const suffix = result.dryRun ? ' (dry run)' : ''
      const purged = result.purged ? `, ${result.purged.length} data objects purged` : ''
      this.log(`${result.product}: ${result.deleted.length} objects deleted from ${result.namespace}${purged}${result.gone ? ', all gone' : ''}${suffix}`)
    }
    return result
  }
}
