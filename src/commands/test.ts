import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {interruptible} from '../core/cli/interruptible.js'
import type {DataTestsResult} from '../core/datatest/result-schema.js'
import {ExitCode} from '../core/errors.js'
import {INTERRUPTED_EXIT} from '../core/run/interrupted.js'

export default class Test extends BaseCommand {
  static override summary = "Run the product's data tests: fixtures in, flows run, states compared row by row."
  static override description = `Each directory tests/<name>/ is a data test: inputs/<input-port>.<csv|ndjson|jsonl|json|parquet> are the rows its run reads (the only ones: other input ports read nothing), expect/<state>.<ext> the rows the state must hold afterwards. <state> is the state's name, or <schema>__<state> when several schemas have a state of that name (dappmesh init writes that form); <state>__rejected compares the state's quarantine. An expect file may leave out columns (those are not compared).

Each test runs the flows that read its inputs or hold its expected states, with schema and contract checks, on a throw-away data directory (the project's .dappmesh/data is never touched). Values are compared typed, as the state's fields. A state with a primary key is compared by key (rows missing, unexpected or changed); one without, as a multiset (order never matters). A failure shows the first differing rows as a diff: - expected, + actual.

Exit codes: 0 every test passed, 1 a test failed (a difference, a failed run or contract check, a bad fixture), 2 usage error (no tests/ directory, an unknown --test), 130 interrupted.`

  static override examples = [
    {description: 'Run every data test of the product in the current directory', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'One test, reported to CI as JUnit XML', command: '<%= config.bin %> <%= command.id %> ./orders --test orders -o junit > data-tests.xml'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory of the data product', default: '.', exists: false}),
  }

  static override flags = {
    test: Flags.string({description: 'run only this test (repeatable): a directory name under tests/', multiple: true, helpValue: 'NAME'}),
    output: Flags.string({char: 'o', description: 'output format', options: ['text', 'junit'], default: 'text'}),
  }

  async run(): Promise<DataTestsResult> {
    const {args, flags} = await this.parse(Test)
    const {runDataTests} = await import('../core/datatest/datatest.js')
    const result: DataTestsResult = await interruptible(
      (signal, shown) => runDataTests({dir: args.dir, tests: flags.test, signal, onTest: shown ? (name) => shown.step(`test ${name}`) : undefined}),
      {showProgress: !this.jsonEnabled(), interrupted: 'interrupted: the remaining data tests were not run', exit: () => this.exit(INTERRUPTED_EXIT)},
    )
    if (this.jsonEnabled()) {
      if (!result.ok) {
        this.logJson(result)
        this.exit(ExitCode.failed)
      }
      return result
    }
    const {formatDataTests, formatDataTestsJunit} = await import('../core/datatest/format.js')
    this.log(flags.output === 'junit' ? formatDataTestsJunit(result) : formatDataTests(result))
    if (!result.ok) this.exit(ExitCode.failed)
    return result
  }
}
