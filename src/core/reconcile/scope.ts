import {resourcePath} from '../kube/paths.js'
import {UsageError} from '../errors.js'

/**
 * What one operator reconciles, the way kubebuilder's watch-namespace and label-selected caches
 * restrict a manager: `namespaces` limits every namespaced watch to those namespaces (one watch
 * per namespace, so nothing outside them is even cached); `selector` limits each loop's primary
 * objects (DataMesh, DataDomain, DataProduct) to those whose labels match.
 */
export interface Scope {
  namespaces?: string[]
  selector?: string
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** Namespaces from repeated and comma-separated flag values: each a DNS-1123 label, duplicates dropped. */
export function parseNamespaces(values: string[]): string[] {
  const names = values.flatMap((v) => v.split(',')).map((n) => n.trim())
  const bad = names.filter((n) => n.length === 0 || n.length > 63 || !DNS_LABEL.test(n))
  if (bad.length > 0 || names.length === 0) {
    throw new UsageError(`--namespace takes namespace names (lower-case letters, digits and '-', at most 63 characters), repeated or comma-separated; got ${bad.map((b) => JSON.stringify(b)).join(', ') || 'nothing'}`, ['for example: -n sales -n finance, or -n sales,finance'])
  }
  return [...new Set(names)]
}

function validKey(key: string): boolean {
  const slash = key.indexOf('/')
  const prefix = slash === -1 ? undefined : key.slice(0, slash)
  const name = slash === -1 ? key : key.slice(slash + 1)
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false
  return name.length > 0 && name.length <= 63 && NAME.test(name)
}

function validValue(value: string): boolean {
  return value.length === 0 || (value.length <= 63 && NAME.test(value))
}

/** Splits at the commas between requirements, not at those inside `in (a,b)`. */
function requirements(selector: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of selector) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else {
      current += ch
    }
  }
  parts.push(current)
  return parts
}

function validRequirement(text: string): boolean {
  const r = text.trim()
  let m = /^!\s*(\S+)$/.exec(r)
  if (m) return validKey(m[1])
  m = /^([^\s!=<>(),]+)\s*(==|!=|=)\s*([^\s!=<>(),]*)$/.exec(r)
  if (m) return validKey(m[1]) && validValue(m[3])
  m = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(r)
  if (m) {
    const values = m[3].split(',').map((v) => v.trim())
    return validKey(m[1]) && values.length > 0 && values.every((v) => validValue(v)) && m[3].trim() !== ''
  }
  m = /^([^\s!=<>(),]+)$/.exec(r)
  if (m) return validKey(m[1])
  return false
}

/** A Kubernetes label selector (equality- and set-based), checked here so a typo is a usage error, not a watch failing forever. */
export function parseSelector(selector: string): string {
  const text = selector.trim()
  const bad = text === '' ? [''] : requirements(text).filter((r) => !validRequirement(r))
  if (bad.length > 0) {
    throw new UsageError(`--selector takes a label selector such as team=sales, team in (sales,finance), !legacy or tier; ${text === '' ? 'it is empty' : `cannot read ${bad.map((b) => JSON.stringify(b.trim())).join(', ')}`}`, [
      'Keys and values are letters, digits, -, _ and . (a key may have a DNS prefix and /); requirements are separated by commas.',
    ])
  }
  return text
}

/**
 * The path (or, with namespaces, the paths) a watch of one kind lists: a namespaced kind is
 * watched in each namespace of the scope; a cluster-scoped one (and any kind without a scope) once.
 */
export function watchPaths(apiVersion: string, kind: string, namespaces?: string[]): {path: string; paths?: string[]} {
  const path = resourcePath(apiVersion, kind)
  if (!namespaces || namespaces.length === 0) return {path}
  const paths = namespaces.map((ns) => resourcePath(apiVersion, kind, ns))
  if (paths[0] === path) return {path} // cluster-scoped
  return {path: paths[0], paths}
}

/** For the log: what this operator reconciles. */
export function describeScope(scope: Scope): string {
  const parts: string[] = []
  if (scope.namespaces?.length) parts.push(`namespace${scope.namespaces.length === 1 ? '' : 's'} ${scope.namespaces.join(', ')}`)
  if (scope.selector) parts.push(`objects labelled ${scope.selector}`)
  return parts.length === 0 ? 'the whole cluster' : parts.join(', ')
}

/** A label's value, if the object has the label (not a property every object inherits). */
const own = (labels: Record<string, string>, key: string): string | undefined => (Object.hasOwn(labels, key) ? labels[key] : undefined)

/**
 * A label selector as a test of an object's labels, the API server's semantics (a set-based
 * `notin` and `!=` match an object without the key), for a cache that serves a selector from a
 * wider watch (Controller.shareInformers). Undefined for a selector it cannot read: that one keeps
 * its own watch.
 */
export function selectorMatcher(selector: string): ((labels: Record<string, string> | undefined) => boolean) | undefined {
  const tests: Array<(labels: Record<string, string>) => boolean> = []
  for (const part of requirements(selector.trim())) {
    const r = part.trim()
    if (!validRequirement(r)) return undefined
    let m = /^!\s*(\S+)$/.exec(r)
    if (m) {
      const key = m[1]
      tests.push((labels) => !Object.hasOwn(labels, key))
      continue
    }
    m = /^([^\s!=<>(),]+)\s*(==|!=|=)\s*([^\s!=<>(),]*)$/.exec(r)
    if (m) {
      const [, key, op, value] = m
      tests.push(op === '!=' ? (labels) => own(labels, key) !== value : (labels) => own(labels, key) === value)
      continue
    }
    m = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(r)
    if (m) {
      const [, key, op, list] = m
      const values = new Set(list.split(',').map((v) => v.trim()))
      tests.push(op === 'in' ? (labels) => Object.hasOwn(labels, key) && values.has(labels[key]) : (labels) => !Object.hasOwn(labels, key) || !values.has(labels[key]))
      continue
    }
    const key = r
    tests.push((labels) => Object.hasOwn(labels, key))
  }
  return (labels) => tests.every((test) => test(labels ?? {}))
}
