import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../core/cli/base-command.js'
import {parseDuration} from '../../core/cli/kube-flags.js'
import {ExitCode, UsageError} from '../../core/errors.js'
import type {RunRecord} from '../../core/runtime/runs.js'
import {runtimeUrl, triggerWorkflow} from '../../core/runtime/trigger.js'

export default class WorkflowTrigger extends BaseCommand {
  static override summary = 'Ask a running product runtime to run a DataWorkflow now, and wait for the run.'
  static override description = `Starts a run of the workflow on a runtime (dappmesh serve) with POST /v1/workflows/NAME/runs and follows it until it ends, printing each activity as it finishes. This is what a scheduled DataWorkflow's CronJob runs in the cluster.

The runtime is --url (default http://127.0.0.1:8080), or with --product and -n the product's runtime Service in the cluster. A runtime that checks tokens gets --token, or the contents of --token-file (default: the pod's ServiceAccount token when there is one).

Exit codes: 0 the run succeeded, 1 it failed (or the runtime refused), 2 usage (unknown workflow), 3 runtime unreachable, 4 still running at --timeout.`

  static override examples = [
    {description: 'Run the nightly workflow on a local runtime', command: '<%= config.bin %> <%= command.id %> orders-nightly'},
    {description: 'In the cluster (what the CronJob runs)', command: '<%= config.bin %> <%= command.id %> orders-nightly --product orders -n sales'},
  ]

  static override args = {
    name: Args.string({description: 'the DataWorkflow to run', required: true}),
  }

  static override flags = {
    url: Flags.string({description: 'base URL of the runtime (default http://127.0.0.1:8080)', exclusive: ['product']}),
    product: Flags.string({description: 'the product whose runtime Service to call (in the cluster; with -n)'}),
    namespace: Flags.string({char: 'n', description: 'namespace of --product'}),
    token: Flags.string({description: 'bearer token for a runtime that checks tokens', exclusive: ['token-file']}),
    'token-file': Flags.string({description: 'file holding the token (default: the pod\'s ServiceAccount token, if any)', helpValue: 'FILE'}),
    wait: Flags.boolean({description: 'wait for the run to end', default: true, allowNo: true}),
    timeout: Flags.string({description: 'how long to wait for the run', default: '1h'}),
  }

  async run(): Promise<RunRecord> {
    const {args, flags} = await this.parse(WorkflowTrigger)
    if (flags.product && !flags.namespace) throw new UsageError('--product needs -n NAMESPACE')
    const url = flags.product ? runtimeUrl(flags.product, flags.namespace!) : (flags.url ?? 'http://127.0.0.1:8080')
    const reported = new Set<string>()
    const run = await triggerWorkflow({
      workflow: args.name,
      url,
      token: flags.token,
      tokenFile: flags['token-file'],
      wait: flags.wait,
      timeoutMs: parseDuration(flags.timeout),
      onProgress: (r) => {
        if (!reported.has('started')) {
          reported.add('started')
          this.logToStderr(`run ${r.id} of workflow ${r.workflow} started`)
        }
        for (const a of r.activities) {
          if (a.status === 'pending' || a.status === 'running' || reported.has(a.name)) continue
          reported.add(a.name)
          this.logToStderr(`  ${a.name}: ${a.status}${a.attempts > 1 ? ` after ${a.attempts} attempts` : ''} (${a.ms} ms)${a.error ? `: ${a.error}` : ''}`)
        }
      },
    })
    if (!this.jsonEnabled()) this.log(`run ${run.id}: ${run.status}${run.ms === null ? '' : ` in ${run.ms} ms`}${run.error ? `: ${run.error}` : ''}`)
    if (flags.wait && run.status !== 'succeeded') {
      if (this.jsonEnabled()) this.logJson(run)
      this.exit(ExitCode.failed)
    }
    return run
  }
}
