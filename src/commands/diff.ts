import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {colourFor} from '../core/cli/colour.js'
import {kubeFlags} from '../core/cli/kube-flags.js'
import {type DiffResult, diffProduct} from '../core/diff/diff.js'
import {formatDiff} from '../core/diff/format.js'
import {ExitCode} from '../core/errors.js'

export default class Diff extends BaseCommand {
  static override summary = 'Show what apply would change in the cluster, computed by the server.'
  static override description = `Server-side applies every object of the product with a dry run (the API server defaults, validates and merges exactly as for a real apply, and persists nothing) and compares each result with the live object: one unified diff per object, with managed fields, resourceVersion, generation, uid, creationTimestamp and status left out. New objects show as all added; objects the product's inventory lists that left the project show as deleted (what apply --prune removes). Coloured on a terminal only.

The dappmesh CRDs must be installed (dappmesh apply installs them).

Exit codes, as kubectl diff: 0 no changes, 1 changes, above 1 when the diff could not be made: 2 a failure (a usage error, an invalid project, missing CRDs, a conflict: said on stderr), 3 cluster unreachable, 4 timeout.`

  static override examples = [
    {description: 'What would apply change for the product in the current directory?', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Fail a CI job when the cluster drifted from the project', command: '<%= config.bin %> <%= command.id %> ./orders --context prod'},
    {description: 'The changes as JSON', command: '<%= config.bin %> <%= command.id %> --json'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory of the data product', default: '.', exists: false}),
  }

  static override flags = {
    ...kubeFlags,
    'force-conflicts': Flags.boolean({description: 'diff as if apply took over fields another field manager owns'}),
  }

  /** Exit 1 means "there are changes", as for kubectl diff and diff(1): a failure must not look like one. */
  protected override failureExit(exit: ExitCode): ExitCode {
    return exit === ExitCode.failed ? ExitCode.usage : exit
  }

  async run(): Promise<DiffResult> {
    const {args, flags} = await this.parse(Diff)
    if (flags.namespace) this.warn('--namespace is ignored by diff: a product lives in its domain\'s namespace (DataDomain spec.namespace)')
    const result = await diffProduct({dir: args.dir, kubeconfig: flags.kubeconfig, context: flags.context, forceConflicts: flags['force-conflicts']})
    for (const warning of result.warnings) this.warn(warning)
    if (this.jsonEnabled()) {
      if (result.changes.length > 0) {
        this.logJson(result)
        this.exit(ExitCode.failed)
      }
      return result
    }
    this.log(formatDiff(result, colourFor(process.stdout)))
    if (result.changes.length > 0) this.exit(ExitCode.failed)
    return result
  }
}
