import {Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import type {CheckStatus} from '../core/doctor/result-schema.js'
import {type DoctorReport, runDoctor} from '../core/doctor/doctor.js'

const MARK: Record<CheckStatus, string> = {pass: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip'}

export default class Doctor extends BaseCommand {
  static override summary = 'Check the tools, the Kubernetes context, the CRDs and the operator, and say how to fix each problem.'
  static override description = `Checks, in order: Node.js version; the kube context answers (names the server URL); the dappmesh CRDs are installed, Established and current (their schema hash matches this dappmesh's); the operator runs (a Deployment in dappmesh-system with an available replica, or a live Lease there from operator run --leader-elect; not running is a warning); an image builder is available (buildah, podman, or docker with an engine that answers).

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 3 the cluster is unreachable or the kubeconfig/context is unusable (the cluster checks are then skipped).`

  static override examples = [
    {description: 'Check the current context', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Check another cluster, as JSON', command: '<%= config.bin %> <%= command.id %> --kubeconfig ./kubeconfig --context dappmesh-dev --json'},
  ]

  static override flags = {
    kubeconfig: Flags.string({description: 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)'}),
    context: Flags.string({description: 'kubeconfig context (default: its current context)'}),
  }

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const report = await runDoctor({kubeconfig: flags.kubeconfig, context: flags.context})
    if (this.jsonEnabled()) {
      if (report.exitCode !== 0) {
        this.logJson(report)
        this.exit(report.exitCode)
      }
      return report
    }
    for (const check of report.checks) {
      this.log(`[${MARK[check.status]}] ${check.title}: ${check.message}`)
      if (check.fix && (check.status === 'fail' || check.status === 'warn')) this.log(`       fix: ${check.fix}`)
    }
    if (report.exitCode !== 0) this.exit(report.exitCode)
    return report
  }
}
