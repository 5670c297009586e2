/**
 * What `init` needs to know, and the rules every answer must follow. The same checks serve flags
 * (a wrong flag is a usage error naming it) and prompts (a wrong answer is asked again).
 */
import {UsageError} from '../errors.js'
import {ENGINES} from '../model/schemas/data-storage.js'
import {MAX_ENTITY_NAME, MAX_NAME, MAX_PRODUCT_NAME} from './names.js'

export type StorageClass = keyof typeof ENGINES
export type Engine<C extends StorageClass = StorageClass> = (typeof ENGINES)[C][number]
export type StorageChoice = {[C in StorageClass]?: Engine<C>}

export const STORAGE_CLASSES = Object.keys(ENGINES) as StorageClass[]
export {ENGINES}
export const CONTRACT_SPECIFICATIONS = ['odcs'] as const
export type ContractSpecification = (typeof CONTRACT_SPECIFICATIONS)[number]

export interface InitAnswers {
  /** The DataProduct's name. */
  name: string
  domain: string
  mesh: string
  /** An e-mail address, optionally with a display name: `Data Team <data@example.com>`. */
  owner: string
  description?: string
  entities: string[]
  storage: StorageChoice
  contractSpecification: ContractSpecification
}

export const DEFAULTS = {
  mesh: 'default',
  // Embedded DuckDB: a fresh project runs and tests its flows with nothing else installed (DESIGN §7).
  storage: {analytics: 'duckdb'} as StorageChoice,
  contractSpecification: 'odcs' as ContractSpecification,
}

/** A storage choice as the flags write it: `analytics=duckdb operational=postgresql`. */
export function storageChoiceText(choice: StorageChoice, separator = ' '): string {
  return STORAGE_CLASSES.filter((c) => choice[c] !== undefined).map((c) => `${c}=${choice[c]}`).join(separator)
}

/** `undefined` when fine, else what is wrong and the rule to follow. */
export type Check = (value: string) => string | undefined

function dnsLabel(what: string, max: number, mustStartWithLetter = false): Check {
  const first = mustStartWithLetter ? 'a-z' : 'a-z0-9'
  const pattern = new RegExp(`^[${first}]([-a-z0-9]*[a-z0-9])?$`)
  const rule = `${what} must be lower-case letters, digits and '-', start with a ${mustStartWithLetter ? 'letter' : 'letter or digit'}, end with a letter or digit, and be at most ${max} characters (DNS-1123 label)`
  return (value) => {
    if (value.length === 0) return `${what} is empty; ${rule}`
    if (value.length > max || !pattern.test(value)) return `${JSON.stringify(value)} is not a valid ${what}: ${rule}`
    return undefined
  }
}

const productLabel = dnsLabel('product name', MAX_PRODUCT_NAME)
/** `--` separates a product's name from its parts' in the cluster (model/child-names.ts). */
export const checkProductName: Check = (value) =>
  productLabel(value) ?? (value.includes('--') ? `${JSON.stringify(value)} is not a valid product name: it may not hold "--", which separates a product's name from its parts' in the cluster` : undefined)
export const checkDomain = dnsLabel('domain name', MAX_NAME)
export const checkMesh = dnsLabel('mesh name', MAX_NAME)
// An entity name is also spec.entity, an identifier, so it starts with a letter.
export const checkEntity = dnsLabel('entity name', MAX_ENTITY_NAME, true)

const EMAIL = /^[^\s@<>"]+@[^\s@<>".]+(\.[^\s@<>".]+)+$/
const NAMED_EMAIL = /^([^<>\n\r]+?)\s*<([^<>]+)>$/

export const checkOwner: Check = (value) => {
  const rule = 'the owner is an e-mail address, optionally with a name: data-team@example.com or "Data Team" <data-team@example.com>'
  if (value.trim().length === 0) return `owner is empty; ${rule}`
  if (value.length > 253) return `owner is longer than 253 characters; ${rule}`
  if (value !== value.trim()) return `owner has leading or trailing spaces; ${rule}`
  if ([...value].some((c) => c < ' ' || c === '\u007f')) return `owner must be one line of plain text; ${rule}`
  const named = NAMED_EMAIL.exec(value)
  const address = named ? named[2] : value
  if (!EMAIL.test(address)) return `${JSON.stringify(value)} is not an e-mail-like owner; ${rule}`
  return undefined
}

export const checkDescription: Check = (value) => {
  if (value.length > 4096) return 'the description is longer than 4096 characters'
  // YAML can escape any of these, but Kubernetes objects and terminals cope badly with them.
  if ([...value].some((c) => c !== '\n' && c !== '\t' && (c < ' ' || c === '\u007f'))) return 'the description holds control characters; use plain text (newlines and tabs are fine)'
  return undefined
}

/** Checks a list of entity names: each one, and no name twice. */
export function checkEntities(values: string[]): string | undefined {
  if (values.length === 0) return 'at least one entity is needed'
  for (const v of values) {
    const problem = checkEntity(v)
    if (problem) return problem
  }
  const twice = values.find((v, i) => values.indexOf(v) !== i)
  if (twice) return `entity "${twice}" is named twice`
  return undefined
}

/** Splits `orders, customers` or `orders customers` into names (what a prompt's answer holds). */
export function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((v) => v.length > 0)
}

/**
 * Splits a flag's value at commas only (`orders,customers`, spaces around a comma allowed). A
 * space inside a name (`--entity 'a,b c'`) is refused rather than guessed at: "b c" may be one
 * name mistyped as well as two, and a wrong guess writes files the user did not ask for.
 */
export function splitFlagList(flag: string, value: string): string[] {
  const names = value.split(',').map((v) => v.trim()).filter((v) => v.length > 0)
  const spaced = names.find((v) => /\s/.test(v))
  if (spaced) throw new UsageError(`${flag} '${value}': "${spaced}" holds a space; separate names with commas (${flag} ${names.join(',').replace(/\s+/g, ',')}) or repeat ${flag}`)
  return names
}

/**
 * Parses `class=engine` items (`operational=postgresql`), or `none` for no storage.
 * Returns the choice, or what is wrong.
 */
export function parseStorage(items: string[]): StorageChoice | string {
  const choice: StorageChoice = {}
  const usage = `use class=engine with ${STORAGE_CLASSES.map((c) => `${c}=${ENGINES[c].join('|')}`).join(', ')}, or none`
  if (items.length === 1 && items[0] === 'none') return choice
  for (const item of items) {
    const m = /^([a-z]+)=([a-z0-9]+)$/.exec(item.trim())
    if (!m) return `${JSON.stringify(item)} is not a storage choice; ${usage}`
    const [, cls, engine] = m
    if (!STORAGE_CLASSES.includes(cls as StorageClass)) return `${JSON.stringify(cls)} is not a storage class; ${usage}`
    const c = cls as StorageClass
    if (!(ENGINES[c] as readonly string[]).includes(engine)) return `${JSON.stringify(engine)} is not an engine of class ${c}; use one of ${ENGINES[c].join(', ')}`
    if (choice[c] !== undefined) return `storage class ${c} is chosen twice`
    ;(choice as Record<string, string>)[c] = engine
  }
  return choice
}

/** The valid product name a directory's base name gives, if it gives one. */
export function nameFromDirectory(basename: string): string | undefined {
  return checkProductName(basename) === undefined ? basename : undefined
}
