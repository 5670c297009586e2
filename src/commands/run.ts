import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {interruptible} from '../core/cli/interruptible.js'
import {ExitCode} from '../core/errors.js'
import {INTERRUPTED_EXIT} from '../core/run/interrupted.js'
import type {RunResult} from '../core/run/result-schema.js'

export default class Run extends BaseCommand {
  static override summary = 'Run the product\'s flows once, locally: ingest, transitions, schema and contract checks.'
  static override description = `Ingests each input port's rows (--input, else the sample file data/<port>.csv|ndjson|json|parquet, else its http, s3 or postgres source) into its state, runs the transitions' SQL in dependency order in an embedded DuckDB, checks every written state against its DataSchema (columns, types, required, primaryKey/unique; rows that break a rule go to <state>__rejected) and every output port's state against its ODCS contract, then publishes all states at once into the flow's storage (DataFlow spec.storage, else the analytics storage, else the operational one, else .dappmesh/data/embedded.duckdb). A failed step, a failed contract rule or Ctrl-C publishes nothing: every state stays as it was.

Exit codes: 0 ok, 1 a transition or contract check failed, 2 usage error or unsupported source or storage engine, 3 a storage or input URL is unreachable, 130 interrupted.`

  static override examples = [
    {description: 'Run every flow of the product in the current directory', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Feed an input port from a file', command: '<%= config.bin %> <%= command.id %> ./orders --input orders-events=events.csv'},
    {description: 'Run one transition, as JSON', command: '<%= config.bin %> <%= command.id %> ./orders --transition daily --json'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory of the data product', default: '.', exists: false}),
  }

  static override flags = {
    flow: Flags.string({description: 'run only this DataFlow (repeatable)', multiple: true}),
    transition: Flags.string({description: 'run only this transition (repeatable); other states are read as last published', multiple: true}),
    input: Flags.string({description: 'rows for an input port, from a file or a URL: http(s), s3://BUCKET/KEY, postgres://…?table=T (repeatable)', helpValue: 'PORT=FILE|URL', multiple: true}),
    'data-dir': Flags.directory({description: 'where duckdb storages keep their files (default: DIR/.dappmesh/data)'}),
    'memory-limit': Flags.string({
      description: 'memory the engine may use before it spills to disk, e.g. 1GB (default: DuckDB\'s, 80% of RAM)',
      helpValue: 'SIZE',
    }),
  }

  async run(): Promise<RunResult> {
    const {args, flags} = await this.parse(Run)
    const {runProduct} = await import('../core/run/run.js')
    const result: RunResult = await interruptible(
      (signal, shown) =>
        runProduct({
          dir: args.dir,
          inputs: flags.input ?? [],
          flows: flags.flow,
          transitions: flags.transition,
          dataDir: flags['data-dir'],
          engine: {memoryLimit: flags['memory-limit']},
          signal,
          onProgress: shown ? (p) => shown.step(`${p.step} ${p.name}`) : undefined,
        }),
      {showProgress: !this.jsonEnabled(), interrupted: 'interrupted: nothing was published, every state is as it was', exit: () => this.exit(INTERRUPTED_EXIT)},
    )
    if (this.jsonEnabled()) {
      if (!result.ok) {
        this.logJson(result)
        this.exit(ExitCode.failed)
      }
      return result
    }
    const {formatRun} = await import('../core/run/format.js')
    this.log(formatRun(result))
    if (!result.ok) this.exit(ExitCode.failed)
    return result
  }
}
