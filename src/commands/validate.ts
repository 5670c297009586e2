import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {ExitCode} from '../core/errors.js'
import {loadEarlierProject} from '../core/validate/against.js'
import {type ValidationResult, validateDirectory} from '../core/validate/validate.js'

export default class Validate extends BaseCommand {
  static override summary = 'Validate a data product offline: schemas, references, cycles, contracts, compatibility, governance.'
  static override description = `Reads every *.yaml/*.yml document under DIR and checks it against the kinds' JSON Schemas (the same ones the CRDs use), then across resources. Every finding names its file, line, column, JSON pointer and rule id: yaml, unknown-kind, schema, naming, duplicate, ref, cycle, contract, breaking, governance, sql, storage, project (not exactly one DataProduct).

YAML files of other tools (no dappmesh apiVersion or kind: CI workflows, compose files, Kubernetes manifests) are skipped and counted; .dappmeshignore (gitignore syntax) leaves out paths; directories render --output-dir wrote are never read.

Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage error.`

  static override examples = [
    {description: 'Validate the product in the current directory', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Report to a CI system as JUnit XML', command: '<%= config.bin %> <%= command.id %> ./orders -o junit > dappmesh.xml'},
    {description: 'Check the schemas for breaking changes against the main branch', command: '<%= config.bin %> <%= command.id %> --against main'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory of the data product', default: '.', exists: false}),
  }

  static override flags = {
    output: Flags.string({char: 'o', description: 'output format', options: ['text', 'json', 'junit', 'sarif'], default: 'text'}),
    against: Flags.string({description: 'an earlier copy of the project to check for breaking schema changes: a directory or a git ref', helpValue: 'DIR|GIT_REF'}),
  }

  async run(): Promise<ValidationResult> {
    const {args, flags} = await this.parse(Validate)
    const against = flags.against ? await loadEarlierProject(args.dir, flags.against) : undefined
    const result = await validateDirectory(args.dir, {against})

    if (this.jsonEnabled() || flags.output === 'json') {
      if (!result.valid) {
        this.logJson(result)
        this.exit(ExitCode.failed)
      }
      if (!this.jsonEnabled()) this.logJson(result)
      return result
    }
    // Each format is loaded only when asked for (the text one brings chalk): start-up counts here.
    if (flags.output === 'junit') this.log((await import('../core/validate/report/junit.js')).formatJunit(result))
    else if (flags.output === 'sarif') this.log((await import('../core/validate/report/sarif.js')).formatSarif(result, this.config.version))
    else this.log((await import('../core/validate/report/text.js')).formatText(result))
    if (!result.valid) this.exit(ExitCode.failed)
    return result
  }
}
