/**
 * From what the user gave (flags, or flags plus prompts) to complete, checked answers. A wrong
 * value is a usage error naming its flag; a value with no default that nobody gave is one too,
 * never a prompt that would hang without a terminal.
 */
import path from 'node:path'

import {UsageError} from '../errors.js'
import {
  type Check,
  type ContractSpecification,
  DEFAULTS,
  type InitAnswers,
  type StorageChoice,
  checkDescription,
  checkDomain,
  checkEntities,
  checkEntity,
  checkMesh,
  checkOwner,
  checkProductName,
  nameFromDirectory,
  parseStorage,
  splitFlagList,
} from './answers.js'

export interface InitFlags {
  name?: string
  domain?: string
  mesh?: string
  owner?: string
  description?: string
  entity?: string[]
  storage?: string[]
  'contract-spec'?: string
}

function checked(flag: string, value: string | undefined, check: Check): string | undefined {
  if (value === undefined) return undefined
  const problem = check(value)
  if (problem) throw new UsageError(`--${flag}: ${problem}`)
  return value
}

/** The answers the flags give, each checked. */
export function answersFromFlags(flags: InitFlags): Partial<InitAnswers> {
  const given: Partial<InitAnswers> = {}
  const set = <K extends keyof InitAnswers>(key: K, value: InitAnswers[K] | undefined) => {
    if (value !== undefined) given[key] = value
  }
  set('name', checked('name', flags.name, checkProductName))
  set('domain', checked('domain', flags.domain, checkDomain))
  set('mesh', checked('mesh', flags.mesh, checkMesh))
  set('owner', checked('owner', flags.owner, checkOwner))
  set('description', checked('description', flags.description, checkDescription))
  if (flags.entity && flags.entity.length > 0) {
    const entities = flags.entity.flatMap((v) => splitFlagList('--entity', v))
    const problem = checkEntities(entities)
    if (problem) throw new UsageError(`--entity: ${problem}`)
    given.entities = entities
  }
  if (flags.storage && flags.storage.length > 0) {
    const storage = parseStorage(flags.storage.flatMap((v) => splitFlagList('--storage', v)))
    if (typeof storage === 'string') throw new UsageError(`--storage: ${storage}`)
    given.storage = storage
  }
  if (flags['contract-spec'] !== undefined) given.contractSpecification = flags['contract-spec'] as ContractSpecification
  return given
}

/** The defaults for what was not given; `name` comes from the directory when that is a valid name. */
export function defaultsFor(dir: string, given: Partial<InitAnswers>): Partial<InitAnswers> {
  const name = given.name ?? nameFromDirectory(path.basename(path.resolve(dir)))
  const entities = name && checkEntity(name) === undefined ? [name] : undefined
  return {
    name,
    mesh: DEFAULTS.mesh,
    entities,
    storage: {...DEFAULTS.storage} as StorageChoice,
    contractSpecification: DEFAULTS.contractSpecification,
  }
}

const REQUIRED: Array<[keyof InitAnswers, string]> = [
  ['name', '--name'],
  ['domain', '--domain'],
  ['owner', '--owner'],
  ['entities', '--entity'],
]

/** Given values over defaults; throws a usage error naming every flag still missing. */
export function completeAnswers(dir: string, given: Partial<InitAnswers>, why: string): InitAnswers {
  const answers = {...defaultsFor(dir, given), ...given}
  // With no name there is no default entity either; --name alone fixes both.
  const missing = REQUIRED.filter(([key]) => answers[key] === undefined && !(key === 'entities' && answers.name === undefined)).map(([, flag]) => flag)
  if (missing.length > 0) {
    const example = missing.map((f) => `${f} ${f === '--owner' ? 'team@example.com' : 'NAME'}`).join(' ')
    const base = path.basename(path.resolve(dir))
    const noName = answers.name === undefined ? ` (the directory's name ${JSON.stringify(base)} is not a valid product name)` : ''
    throw new UsageError(`missing ${missing.join(', ')}${noName}: ${why}, so dappmesh does not ask; pass ${missing.length === 1 ? 'it as a flag' : 'them as flags'}`, [
      `dappmesh init ${dir === '.' ? '' : `${dir} `}${example}`,
    ])
  }
  return answers as InitAnswers
}
