/**
 * The questions `init` asks on a terminal. Each answer is checked as it is typed (the same checks
 * as the flags) and asked again when wrong. Inquirer is loaded here, lazily: only an interactive
 * init pays for it.
 */
import {InterruptedError} from '../errors.js'
import {
  CONTRACT_SPECIFICATIONS,
  type Check,
  ENGINES,
  type InitAnswers,
  STORAGE_CLASSES,
  type StorageChoice,
  type StorageClass,
  checkDescription,
  checkDomain,
  checkEntities,
  checkMesh,
  checkOwner,
  checkProductName,
  splitList,
} from './answers.js'

const STORAGE_HELP: Record<StorageClass, string> = {
  operational: 'what the product\'s API serves from',
  analytics: 'tables for reporting',
  object: 'files and raw payloads',
}

const SPEC_HELP: Record<string, string> = {odcs: 'Open Data Contract Standard v3'}

function validate(check: Check) {
  return (value: string) => check(value.trim()) ?? true
}

/**
 * Asks for every answer that `given` lacks, offering `defaults`. Returns the complete answers.
 */
export async function promptAnswers(given: Partial<InitAnswers>, defaults: Partial<InitAnswers>): Promise<InitAnswers> {
  const {input, checkbox, select} = await import('@inquirer/prompts')
  const a = {...given}
  try {
    a.name ??= (await input({message: 'Product name', default: defaults.name, validate: validate(checkProductName)})).trim()
    a.domain ??= (await input({message: 'Domain (the team or business area that owns it)', default: defaults.domain, validate: validate(checkDomain)})).trim()
    a.mesh ??= (await input({message: 'Mesh', default: defaults.mesh, validate: validate(checkMesh)})).trim()
    a.owner ??= (await input({message: 'Owner e-mail', default: defaults.owner, validate: validate(checkOwner)})).trim()
    if (a.description === undefined) {
      const description = (await input({message: 'Description (optional)', validate: validate(checkDescription)})).trim()
      if (description !== '') a.description = description
    }
    if (a.entities === undefined) {
      // The product's name as answered, not the directory's: most products start with one entity of their name.
      const suggested = checkEntities([a.name]) === undefined ? [a.name] : defaults.entities
      const answer = await input({
        message: 'First entities (names separated by commas)',
        default: suggested?.join(', '),
        validate: (value: string) => checkEntities(splitList(value)) ?? true,
      })
      a.entities = splitList(answer)
    }
    if (a.storage === undefined) {
      const preset = defaults.storage ?? {}
      const classes = await checkbox<StorageClass>({
        message: 'Storage (space to toggle, enter to accept)',
        choices: STORAGE_CLASSES.map((c) => ({name: `${c}: ${STORAGE_HELP[c]}`, value: c, checked: preset[c] !== undefined})),
      })
      const storage: StorageChoice = {}
      for (const c of classes) {
        const engines = ENGINES[c] as readonly string[]
        const engine = await select<string>({message: `${c[0].toUpperCase()}${c.slice(1)} engine`, choices: engines.map((e) => ({name: e, value: e})), default: preset[c] ?? engines[0]})
        ;(storage as Record<string, string>)[c] = engine
      }
      a.storage = storage
    }
    a.contractSpecification ??= await select({
      message: 'Contract specification',
      choices: CONTRACT_SPECIFICATIONS.map((s) => ({name: `${s} (${SPEC_HELP[s]})`, value: s})),
      default: defaults.contractSpecification,
    })
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') throw new InterruptedError('init cancelled; nothing was written')
    throw error
  }
  return a as InitAnswers
}
