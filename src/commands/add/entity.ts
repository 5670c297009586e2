import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../core/cli/base-command.js'
import {type AddEntityResult, addEntity} from '../../core/scaffold/add-entity.js'
import {MAX_ENTITY_NAME} from '../../core/scaffold/names.js'

export default class AddEntity extends BaseCommand {
  static override summary = 'Add an entity to a data product: its schema, flow, workflow, ports and contract.'
  static override description = `Writes model/NAME/{schema,flow,workflow}.yaml, services/NAME/ (contracts, contract document, input and output ports), sample rows in data/NAME-events.csv and a data test in tests/NAME/ into the project found by walking up from the current directory (or --dir) to dappmesh.yaml. The fields fit the name (orders, customers, products, payments, events, invoices, users; a generic record otherwise). The output port uses the storage the flow's states live in (analytics, else operational, else object) and has a contract that agrees with the schema, so the project still validates clean and dappmesh test passes.

NAME is a DNS-1123 label that starts with a letter, at most ${MAX_ENTITY_NAME} characters. An entity that exists already (its directories, or resources of its names) is refused and nothing is written.

Exit codes: 0 added, 1 not written (the name exists, not writable), 2 usage error (bad NAME, not inside a project).`

  static override examples = [
    {description: 'Add an entity to the product in the current directory', command: '<%= config.bin %> <%= command.id %> customers'},
    {description: 'Add one to a product elsewhere', command: '<%= config.bin %> <%= command.id %> invoices --dir ./billing'},
  ]

  static override args = {
    name: Args.string({description: 'name of the entity', required: true}),
  }

  static override flags = {
    dir: Flags.directory({description: 'a directory in the project; default: the current directory', helpValue: 'DIR'}),
  }

  async run(): Promise<AddEntityResult> {
    const {args, flags} = await this.parse(AddEntity)
    const result = await addEntity(flags.dir ?? process.cwd(), args.name)
    this.log(`Added entity ${result.entity} to ${result.dir} (${result.files.length} files):`)
    for (const f of result.files) this.log(`  ${f}`)
    this.log('')
    this.log(`To let consumers read it, grant its output port in mesh/roles.yaml: {outputPort: ${result.outputPort}, access: read}`)
    this.log('Then run `dappmesh validate`, and `dappmesh test` to see its flow make the rows tests/' + result.entity + '/expect/ holds.')
    return result
  }
}
