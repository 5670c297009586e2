import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {LINEAGE_FORMATS, type LineageFormat, formatLineage} from '../core/lineage/format.js'
import type {LineageGraph} from '../core/lineage/graph.js'
import {lineageOfDirectory} from '../core/lineage/lineage.js'

export default class Lineage extends BaseCommand {
  static override summary = 'Draw the flow graph of a data product: sources, ports, schema states and transitions.'
  static override description = `Follows data through the product: each input port's source (another product's port, or a kafka/http/postgres/s3 uri), the schema state it feeds, the DataFlow transitions from state to state (a transition with several "from" states merges them; a state of another schema joins that schema's flow), and the output ports that serve a state, with their type and contract. Transitions carry the schedule and triggers of the DataWorkflows that run them.

The project is validated first: an invalid one is refused (exit 1) with its first errors; run validate to see them all.

Exit codes: 0 drawn, 1 invalid project, 2 usage error.`

  static override examples = [
    {description: 'Mermaid flowchart of the product in the current directory (paste into Markdown)', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Render with Graphviz', command: '<%= config.bin %> <%= command.id %> ./orders -o dot | dot -Tsvg > lineage.svg'},
    {description: 'Nodes and edges as JSON, for tools', command: '<%= config.bin %> <%= command.id %> ./orders --json'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory of the data product', default: '.', exists: false}),
  }

  static override flags = {
    output: Flags.string({char: 'o', description: 'output format', options: [...LINEAGE_FORMATS], default: 'mermaid'}),
  }

  async run(): Promise<LineageGraph> {
    const {args, flags} = await this.parse(Lineage)
    const graph = await lineageOfDirectory(args.dir)
    if (!this.jsonEnabled()) this.log(formatLineage(graph, flags.output as LineageFormat))
    return graph
  }
}
