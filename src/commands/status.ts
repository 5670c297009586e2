import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {colourFor} from '../core/cli/colour.js'
import {kubeFlags} from '../core/cli/kube-flags.js'
import {UsageError} from '../core/errors.js'
import {type ProductRef, resolveProductRef} from '../core/project/product-ref.js'
import {toYaml} from '../core/render/yaml.js'
import {formatStatus} from '../core/status/format.js'
import type {ProductStatus} from '../core/status/report.js'
import {type StatusResult, getStatus, watchStatus} from '../core/status/status.js'

export default class Status extends BaseCommand {
  static override summary = 'Show a data product as a tree: mesh, domain, product, components, with readiness.'
  static override description = `Shows the mesh → domain → product → components tree with each one's readiness (its Ready condition), the product's conditions and its recent Warning events. Components are those the operator reports in the DataProduct's status; before it has reported any, the product's own resources and their Ready conditions. Secret values are never shown: status does not read Secrets.

PRODUCT is a product name or a project directory; by default, the project around the current directory. A name is looked up in every namespace unless -n is given. --all shows every product in every namespace.

--watch redraws whenever a DataProduct changes (a watch on the API server, no polling) until interrupted.

Exit codes: 0 shown, 1 product not found, 2 usage, 3 cluster unreachable.`

  static override examples = [
    {description: 'The product in the current directory', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'A product by name, in a namespace', command: '<%= config.bin %> <%= command.id %> orders -n sales'},
    {description: 'Every product in the cluster', command: '<%= config.bin %> <%= command.id %> --all'},
    {description: 'Follow the product until interrupted', command: '<%= config.bin %> <%= command.id %> orders --watch'},
    {description: 'As YAML', command: '<%= config.bin %> <%= command.id %> ./orders -o yaml'},
  ]

  static override args = {
    product: Args.string({description: 'product name or project directory (default: the project around the current directory)'}),
  }

  static override flags = {
    ...kubeFlags,
    all: Flags.boolean({char: 'A', description: 'every product in every namespace', exclusive: ['namespace']}),
    output: Flags.string({char: 'o', description: 'output format', options: ['tree', 'json', 'yaml'], default: 'tree'}),
    watch: Flags.boolean({char: 'w', description: 'redraw whenever the product changes, until interrupted'}),
  }

  async run(): Promise<StatusResult | ProductStatus | Record<string, never> | undefined> {
    const {args, flags} = await this.parse(Status)
    if (flags.all && args.product) throw new UsageError('give a PRODUCT or --all, not both')
    const ref = flags.all ? undefined : await resolveProductRef(args.product, {namespace: flags.namespace})
    const target = {kubeconfig: flags.kubeconfig, context: flags.context, ref}
    const output = this.jsonEnabled() ? 'json' : flags.output

    if (flags.watch) {
      await this.watch(target, ref, output)
      return undefined // the frames were the output
    }
    const result = await getStatus(target)
    const data = shape(result, ref)
    if (this.jsonEnabled()) return data
    this.log(this.render(result, ref, output))
    return data
  }

  private render(result: StatusResult, ref: ProductRef | undefined, output: string, watching = false): string {
    if (output === 'json') return JSON.stringify(shape(result, ref), null, watching ? 0 : 2)
    if (output === 'yaml') return `${watching ? '---\n' : ''}${toYaml(shape(result, ref))}`.replace(/\n$/, '')
    if (ref && result.products.length === 0) return `DataProduct ${ref.name}${ref.namespace ? ` in ${ref.namespace}` : ''} not found (deleted?)`
    return formatStatus(result.products, colourFor(process.stdout), {detail: ref !== undefined})
  }

  /** One frame per change: the screen redrawn on a terminal, frames one after another otherwise. */
  private async watch(target: Parameters<typeof watchStatus>[0], ref: ProductRef | undefined, output: string): Promise<void> {
    const abort = new AbortController()
    const stop = () => abort.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    const tty = Boolean(process.stdout.isTTY) && output === 'tree'
    let last = ''
    try {
      await watchStatus(target, (result) => {
        // The age column changes every second; compare frames without it.
        const frame = this.render(result, ref, output, true)
        const key = frame.replace(/\s+\d+[smhd] ago/g, '')
        if (key === last) return
        last = key
        if (tty) process.stdout.write('\u001B[2J\u001B[H')
        else if (output === 'tree') this.log(`--- ${new Date().toISOString()}`)
        this.log(frame)
      }, abort.signal)
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}

/** One product: {mesh, domain, product}; --all: {products: [...]}. */
function shape(result: StatusResult, ref: ProductRef | undefined): StatusResult | ProductStatus | Record<string, never> {
  if (ref) return result.products[0] ?? {}
  return {context: result.context, server: result.server, products: result.products}
}
