import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../core/cli/base-command.js'
import {CONTRACT_SPECIFICATIONS, type ContractSpecification, DEFAULTS, splitFlagList} from '../../core/scaffold/answers.js'
import {initPlatform} from '../../core/scaffold/platform.js'
import type {InitResult} from '../../core/scaffold/result-schema.js'

export default class InitMesh extends BaseCommand {
  static override summary = 'Create the platform project: the mesh and its domains, which product projects only reference.'
  static override description = `Writes mesh.yaml (the DataMesh and its governance) and domains/<domain>.yaml (a DataDomain per --domain) into DIR. This project owns what every product shares: \`dappmesh apply DIR\` creates and changes the mesh, the domains and their namespaces. A product project (dappmesh init) carries a copy of its mesh and domain so that it validates offline; applying a product creates them when the cluster has none and never changes them, so no product can switch the mesh's governance off.

Asks nothing: --domain and --owner are required. DIR must be new or empty unless --force.

Exit codes: 0 created, 1 not written (DIR not empty, not writable), 2 usage error (a wrong or missing flag).`

  static override examples = [
    {description: 'A mesh with two domains', command: '<%= config.bin %> <%= command.id %> platform --mesh acme --domain sales --domain billing --owner platform-team@example.com'},
    {description: 'Then install it', command: '<%= config.bin %> apply platform'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory to create the platform project in (created when missing)', default: '.', exists: false}),
  }

  static override flags = {
    mesh: Flags.string({description: `mesh name; default: ${DEFAULTS.mesh}`, helpValue: 'NAME'}),
    domain: Flags.string({description: 'a domain of the mesh (repeatable, or comma-separated); its products live in the namespace of its name', multiple: true, required: true, helpValue: 'NAME'}),
    owner: Flags.string({description: 'owner of the domains: an e-mail address, optionally with a name', required: true, helpValue: 'EMAIL'}),
    'contract-spec': Flags.string({description: 'specification of the data contracts', options: [...CONTRACT_SPECIFICATIONS]}),
    force: Flags.boolean({char: 'f', description: 'write into a directory that is not empty (files init generates replace those of the same name)'}),
  }

  async run(): Promise<InitResult> {
    const {args, flags} = await this.parse(InitMesh)
    const answers = {
      mesh: flags.mesh ?? DEFAULTS.mesh,
      domains: flags.domain.flatMap((d) => splitFlagList('--domain', d)),
      owner: flags.owner,
      contractSpecification: (flags['contract-spec'] ?? DEFAULTS.contractSpecification) as ContractSpecification,
    }
    const result = await initPlatform(args.dir, answers, {force: flags.force})
    this.log(`Created the platform project of mesh ${answers.mesh} in ${result.dir} (${result.files.length} files):`)
    for (const f of result.files) this.log(`  ${f}`)
    this.log('')
    this.log('Next steps:')
    this.log(`  dappmesh apply ${args.dir}    install the mesh and its domains (only this project changes them)`)
    this.log(`  dappmesh init PRODUCT --mesh ${answers.mesh} --domain ${answers.domains[0]} --owner EMAIL    a product of one of the domains`)
    return result
  }
}
