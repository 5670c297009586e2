import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {Args, Flags} from '@oclif/core'
import {stringify} from 'yaml'

import {BaseCommand} from '../core/cli/base-command.js'
import {type Manifest, allManifests, renderDirectory} from '../core/render/render.js'

export default class Render extends BaseCommand {
  static override summary = 'Print the product as cluster manifests, for kubectl and GitOps tools.'
  static override description = `Validates the project, then prints every resource as it would be applied: product resources namespaced into the domain's namespace and labelled dappmesh.io/product and app.kubernetes.io/part-of, the shared DataMesh and DataDomain cluster-scoped, the namespace itself, contract documents inlined, and images pinned by digest from .dappmesh/images.json (written by dappmesh build). The CRDs are not included: see dappmesh crds.`

  static override examples = [
    {description: 'Apply with kubectl', command: '<%= config.bin %> crds | kubectl apply --server-side -f - && <%= config.bin %> <%= command.id %> | kubectl apply --server-side -f -'},
    {description: 'One file per object, for a GitOps repository', command: '<%= config.bin %> <%= command.id %> ./orders --output-dir deploy/orders'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory of the data product', default: '.', exists: false}),
  }

  static override flags = {
    output: Flags.string({char: 'o', description: 'output format', options: ['yaml', 'json'], default: 'yaml'}),
    'output-dir': Flags.string({description: 'write one file per object into this directory instead of printing', helpValue: 'DIR'}),
  }

  async run(): Promise<{product: string; namespace: string; items: Manifest[]; files?: string[]}> {
    const {args, flags} = await this.parse(Render)
    const rendered = await renderDirectory(args.dir)
    for (const warning of rendered.warnings) this.warn(warning)
    const items = allManifests(rendered)
    const format = (m: Manifest | Manifest[]) => (flags.output === 'json' ? JSON.stringify(m, null, 2) + '\n' : stringify(m, {lineWidth: 0, aliasDuplicateObjects: false}))

    if (flags['output-dir']) {
      await mkdir(flags['output-dir'], {recursive: true})
      const files: string[] = []
      for (const [i, m] of items.entries()) {
        const file = path.join(flags['output-dir'], `${String(i).padStart(3, '0')}-${m.kind.toLowerCase()}-${m.metadata.name}.${flags.output}`)
        await writeFile(file, format(m))
        files.push(file)
      }
      if (!this.jsonEnabled()) this.log(`wrote ${files.length} files to ${flags['output-dir']}`)
      return {product: rendered.product, namespace: rendered.namespace, items, files}
    }
    if (!this.jsonEnabled()) {
      if (flags.output === 'json') this.log(JSON.stringify({apiVersion: 'v1', kind: 'List', items}, null, 2))
      else this.log(items.map((m) => format(m)).join('---\n').trimEnd())
    }
    return {product: rendered.product, namespace: rendered.namespace, items}
  }
}
