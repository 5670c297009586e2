import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {type WrittenManifests, writeManifestFiles} from '../core/render/output-dir.js'
import {type Manifest, allManifests, renderProjectDirectory} from '../core/render/render.js'
import {type KubeList, kubeList, yamlStreamParts} from '../core/render/yaml.js'

export default class Render extends BaseCommand {
  static override summary = 'Print the product as cluster manifests, for kubectl and GitOps tools.'
  static override description = `Validates the project, then prints every resource as it would be applied: product resources namespaced into the domain's namespace and labelled dappmesh.io/product and app.kubernetes.io/part-of, the shared DataMesh and DataDomain cluster-scoped, the namespace itself, contract documents inlined, and images pinned by digest from .dappmesh/images.json (written by dappmesh build). The CRDs are not included: see dappmesh crds.

YAML is written for YAML 1.1 readers such as kubectl: every string such a reader would take for a boolean, number, null or date (on, off, y, n, yes, no, ~, 0755, 2001-12-14, ...) is quoted. -o json and --json print the same List.

--output-dir writes one file per object and a .dappmesh-rendered marker file; a directory holding that marker is never read as part of a project, so it may live inside the project.`

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

  async run(): Promise<KubeList<Manifest> | WrittenManifests> {
    const {args, flags} = await this.parse(Render)
    const rendered = await renderProjectDirectory(args.dir)
    for (const warning of rendered.warnings) this.warn(warning)
    const list = kubeList(allManifests(rendered))

    if (flags['output-dir']) {
      const written = await writeManifestFiles(flags['output-dir'], list.items, flags.output === 'json' ? 'json' : 'yaml')
      if (!this.jsonEnabled()) this.log(`wrote ${written.files.length} files to ${flags['output-dir']}`)
      return written
    }
    if (this.jsonEnabled()) return list
    if (flags.output === 'json') this.log(JSON.stringify(list, null, 2))
    else writeYamlStream(list.items)
    return list
  }
}

/** Each object as soon as it is converted (what `this.log(toYamlStream(items))` prints, in pieces). */
function writeYamlStream(items: unknown[]): void {
  for (const part of yamlStreamParts(items)) process.stdout.write(part)
  process.stdout.write('\n')
}
