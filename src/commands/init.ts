import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {CONTRACT_SPECIFICATIONS, DEFAULTS, ENGINES, STORAGE_CLASSES, storageChoiceText} from '../core/scaffold/answers.js'
import {type ScaffoldResult, checkTarget, initProject} from '../core/scaffold/init.js'
import {MAX_ENTITY_NAME, MAX_PRODUCT_NAME} from '../core/scaffold/names.js'
import {answersFromFlags, completeAnswers, defaultsFor} from '../core/scaffold/resolve.js'

const storageList = STORAGE_CLASSES.map((c) => `${c}=${ENGINES[c].join('|')}`).join(', ')

export default class Init extends BaseCommand {
  static override summary = 'Create a new data product project: mesh, domain, roles, entities, contracts, storage.'
  static override description = `Writes the project tree (dappmesh.yaml, mesh/, model/<entity>/, services/<entity>/, storage/, data/, tests/) into DIR from the templates shipped with dappmesh. Each entity gets fields that fit its name (orders, customers, products, payments, events, invoices, users; a generic record otherwise), a clean transition in DuckDB SQL, sample rows in data/<entity>-events.csv and one data test in tests/<entity>/. The result validates clean (every output port has an ODCS contract that agrees with its schema state, every pii field is classified, the SQL binds), and dappmesh run and dappmesh test pass on it with nothing else installed (the default storage is embedded DuckDB).

On a terminal, init asks for what the flags do not give. Without a terminal (or with --yes or --json) it asks nothing: --domain and --owner are then required, and so is --name when DIR's base name is not a valid name. Defaults: --name DIR's base name, --mesh ${DEFAULTS.mesh}, --entity the product's name, --storage ${storageChoiceText(DEFAULTS.storage)}, --contract-spec ${DEFAULTS.contractSpecification}.

Names are DNS-1123 labels: lower-case letters, digits and '-' (products at most ${MAX_PRODUCT_NAME} characters, entities at most ${MAX_ENTITY_NAME} and starting with a letter, so that the names derived from them, in the project and in the cluster, fit Kubernetes' limits).

DIR must be new or empty (a .git directory is fine) unless --force. Nothing is left behind when writing fails.

Exit codes: 0 created, 1 not written (DIR not empty, not writable), 2 usage error (a wrong or missing flag).`

  static override examples = [
    {description: 'Answer the questions on a terminal', command: '<%= config.bin %> <%= command.id %> orders'},
    {
      description: 'Without questions, for scripts and CI',
      command: '<%= config.bin %> <%= command.id %> orders --yes --domain sales --owner sales-team@example.com --entity orders --entity customers --storage operational=postgresql --storage analytics=duckdb',
    },
  ]

  static override args = {
    dir: Args.directory({description: 'directory to create the product in (created when missing)', default: '.', exists: false}),
  }

  static override flags = {
    name: Flags.string({description: 'product name; default: the base name of DIR', helpValue: 'NAME'}),
    domain: Flags.string({description: 'domain that owns the product (a DataDomain, and its namespace)', helpValue: 'NAME'}),
    mesh: Flags.string({description: `mesh the domain belongs to; default: ${DEFAULTS.mesh}`, helpValue: 'NAME'}),
    owner: Flags.string({description: 'owner\'s e-mail address, optionally with a name: "Data Team <data@example.com>"', helpValue: 'EMAIL'}),
    description: Flags.string({description: 'what the product offers, in a sentence (optional)', helpValue: 'TEXT'}),
    entity: Flags.string({description: 'an entity to model (repeatable, or comma-separated); default: the product\'s name', multiple: true, helpValue: 'NAME'}),
    storage: Flags.string({description: `storage class and engine (repeatable), or none: ${storageList}; default: ${storageChoiceText(DEFAULTS.storage)}`, multiple: true, helpValue: 'CLASS=ENGINE'}),
    'contract-spec': Flags.string({description: 'specification of the data contracts', options: [...CONTRACT_SPECIFICATIONS]}),
    yes: Flags.boolean({char: 'y', description: 'ask nothing: take defaults for what the flags do not give'}),
    force: Flags.boolean({char: 'f', description: 'write into a directory that is not empty (files init generates replace those of the same name)'}),
  }

  async run(): Promise<ScaffoldResult> {
    const {args, flags} = await this.parse(Init)
    const dir = args.dir
    const given = answersFromFlags(flags)
    await checkTarget(dir, {force: flags.force})

    const noTerminal = !process.stdin.isTTY || !process.stdout.isTTY
    const why = flags.yes ? '--yes was given' : this.jsonEnabled() ? '--json was given' : noTerminal ? 'this is not a terminal' : undefined
    let answers
    if (why) {
      answers = completeAnswers(dir, given, why)
    } else {
      const {promptAnswers} = await import('../core/scaffold/prompts.js')
      answers = await promptAnswers(given, defaultsFor(dir, given))
    }

    const result = await initProject(dir, answers, {force: flags.force})
    this.log(`Created data product ${answers.name} in ${result.dir} (${result.files.length} files):`)
    for (const f of result.files) this.log(`  ${f}`)
    this.log('')
    this.log('Next steps:')
    if (dir !== '.') this.log(`  cd ${shellQuote(dir)}`)
    this.log('  dappmesh validate          check the product offline')
    this.log('  dappmesh run               run its flows on the sample rows in data/')
    this.log('  dappmesh test              check what the flows make against tests/*/expect/')
    this.log('  dappmesh cluster create    start a local Kubernetes cluster')
    this.log('  dappmesh apply             install the product into the cluster')
    this.log('  dappmesh status            see it become Ready')
    return result
  }
}

/** A path as a POSIX shell word, so the printed `cd` can be pasted. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}
