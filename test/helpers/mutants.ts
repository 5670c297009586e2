import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {type Document, parseAllDocuments, visit} from 'yaml'

import {kindInfo} from '../../src/core/model/kinds.js'
import {odcsSchema} from '../../src/core/validate/odcs/schema.js'
import {ROOT} from './cli.js'

/*
 * Mutated copies of examples/orders, drawn from a seeded PRNG: the fuzz test's corpus, shared
 * with the fast-path test. A case reproduces with DAPPMESH_FUZZ_SEED=<seed>.
 */

export const SEED = Number(process.env.DAPPMESH_FUZZ_SEED ?? 20_261_124)
export const EXAMPLE = path.join(ROOT, 'examples/orders')

/** A project in memory: project-relative path → content (a Buffer for bytes that are not UTF-8). */
export type Files = Map<string, string | Buffer>

export interface Mutant {
  description: string
  files: Files
  /** Known to make the project invalid: the result must not be valid. */
  invalid: boolean
}

// --- deterministic randomness -----------------------------------------------------------------

export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** mulberry32: small, fast and good enough to pick mutations. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }

  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }
}

export function caseSeed(category: string, index: number): number {
  let h = SEED ^ 0x9e3779b9
  for (const c of `${category}#${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193)
  return h >>> 0
}

// --- the base project ---------------------------------------------------------------------------

function readTree(dir: string, prefix = ''): Files {
  const out: Files = new Map()
  for (const entry of readdirSync(path.join(dir, prefix), {withFileTypes: true})) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name
    if (entry.isDirectory()) for (const [k, v] of readTree(dir, rel)) out.set(k, v)
    else out.set(rel, readFileSync(path.join(dir, rel), 'utf8'))
  }
  return out
}

export const BASE = readTree(EXAMPLE)
export const YAML_FILES = [...BASE.keys()].filter((f) => /\.ya?ml$/.test(f)).sort()
/** Files holding dappmesh resources (the others are contract documents named by a documentRef). */
export const RESOURCE_FILES = YAML_FILES.filter((f) => base(f).startsWith('apiVersion: dappmesh.io/'))
export const ODCS_FILES = YAML_FILES.filter((f) => !RESOURCE_FILES.includes(f))

/** Resources something else refers to: dropping or renaming one breaks a reference. */
const REFERENCED = new Set([
  'DataMesh/acme', 'DataDomain/sales', 'DataSchema/orders', 'DataFlow/orders', 'InputPort/orders-events',
  'OutputPort/orders-api', 'OutputPort/orders-daily', 'DataContract/orders-clean', 'DataContract/orders-daily',
  'DataStorage/operational', 'DataStorage/analytics',
])

/** Where references live, per kind: each path segment `*` stands for any array index. */
const REFERENCE_PATHS: Record<string, string[][]> = {
  DataDomain: [['spec', 'mesh']],
  DataProduct: [['spec', 'domain']],
  DataRole: [['spec', 'grants', '*', 'outputPort'], ['spec', 'grants', '*', 'storage']],
  DataContract: [['spec', 'schema'], ['spec', 'documentRef', 'path']],
  InputPort: [['spec', 'entity'], ['spec', 'schema']],
  OutputPort: [['spec', 'entity'], ['spec', 'schema'], ['spec', 'contract'], ['spec', 'storage']],
  DataFlow: [
    ['spec', 'schema'], ['spec', 'version'], ['spec', 'inputs', '*', 'port'], ['spec', 'inputs', '*', 'state'],
    ['spec', 'transitions', '*', 'from', '*'], ['spec', 'transitions', '*', 'to'], ['spec', 'outputs', '*', 'port'], ['spec', 'outputs', '*', 'state'],
  ],
  DataWorkflow: [['spec', 'flow'], ['spec', 'triggers', '*', 'port'], ['spec', 'activities', '*', 'transition'], ['spec', 'activities', '*', 'dependsOn', '*']],
}

function parse(text: string): Document.Parsed[] {
  return parseAllDocuments(text) as Document.Parsed[]
}

function serialize(docs: Document.Parsed[]): string {
  return docs.map((d) => String(d)).join('')
}

export function withFile(files: Files, file: string, text: string | Buffer | undefined): Files {
  const out = new Map(files)
  if (text === undefined) out.delete(file)
  else out.set(file, text)
  return out
}

export function lines(text: string | Buffer): string[] {
  return text.toString().split('\n')
}

/** The example's text of a file (all of them are UTF-8). */
function base(file: string): string {
  return BASE.get(file) as string
}

/** Concrete paths in `value` matching `pattern` (`*` = every index of an array). */
function expand(value: unknown, pattern: string[], at: Array<string | number> = []): Array<Array<string | number>> {
  if (pattern.length === 0) return value === undefined ? [] : [at]
  const [head, ...rest] = pattern
  if (head === '*') return Array.isArray(value) ? value.flatMap((v, i) => expand(v, rest, [...at, i])) : []
  if (value === null || typeof value !== 'object' || !(head in value)) return []
  return expand((value as any)[head], rest, [...at, head])
}

/** Paths of the properties a JSON Schema requires that are present in `value`. */
function requiredPaths(schema: any, value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (!schema || value === null || typeof value !== 'object') return []
  const out: Array<Array<string | number>> = []
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => out.push(...requiredPaths(schema.items, v, [...at, i])))
    return out
  }
  for (const key of schema.required ?? []) if (key in value) out.push([...at, key])
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (key in value) out.push(...requiredPaths(sub, (value as any)[key], [...at, key]))
  }
  return out
}

// --- mutations ----------------------------------------------------------------------------------

export type Mutator = (rng: Rng) => Mutant

const show = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s)

/** Cut a file at a random offset. Known invalid when its last document has lost `spec:`. */
const truncate: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  const text = base(file)
  const offset = rng.int(text.length)
  const cut = text.slice(0, offset)
  const last = cut.split(/^---[ \t]*$/m).pop()!
  const invalid = RESOURCE_FILES.includes(file) && last.trim() !== '' && !/^spec:/m.test(last)
  return {description: `truncate ${file} at offset ${offset} (…${show(cut.slice(-30))})`, files: withFile(BASE, file, cut), invalid}
}

const ODD_CHARACTERS = ['\0', '\t', '\r', '"', "'", ':', '-', '#', '&', '*', '!', '|', '>', '%', '@', '`', '{', '[', ']', '}', ',', '\u00ff', '\ufeff', '\u202e', '\ud83d', '😀']

/** Replace one to three characters with random or YAML-significant ones. */
const flip: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  let text = base(file)
  const changes: string[] = []
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const at = rng.int(text.length)
    const c = rng.next() < 0.5 ? rng.pick(ODD_CHARACTERS) : String.fromCharCode(rng.int(0x250))
    changes.push(`${at}→U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    text = text.slice(0, at) + c + text.slice(at + 1)
  }
  return {description: `flip characters of ${file}: ${changes.join(', ')}`, files: withFile(BASE, file, text), invalid: false}
}

/** Delete one line. Known invalid when it is a resource's apiVersion, kind, metadata or spec. */
const deleteLine: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  const all = lines(base(file))
  const i = rng.int(all.length)
  const invalid = RESOURCE_FILES.includes(file) && /^(apiVersion|kind|metadata|spec):/.test(all[i])
  return {description: `delete line ${i + 1} of ${file}: ${show(all[i])}`, files: withFile(BASE, file, [...all.slice(0, i), ...all.slice(i + 1)].join('\n')), invalid}
}

/** Repeat a `key: …` line right after itself: a duplicate key, which YAML forbids. */
const duplicateKey: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  const all = lines(base(file))
  const candidates = all.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[A-Za-z_][\w-]*:(\s|$)/.test(l))
  const [line, i] = rng.pick(candidates)
  return {description: `duplicate line ${i + 1} of ${file}: ${show(line)}`, files: withFile(BASE, file, [...all.slice(0, i + 1), line, ...all.slice(i + 1)].join('\n')), invalid: true}
}

/** Change one line's indentation: a tab instead of spaces, one space more or less, or the previous line's. */
const reindent: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  const all = lines(base(file))
  const indented = all.map((l, i) => [l, i] as const).filter(([l, i]) => i > 0 && /^ +\S/.test(l))
  const [line, i] = rng.pick(indented)
  const body = line.trimStart()
  const indent = line.length - body.length
  const how = rng.pick(['tab', 'more', 'less', 'swap'] as const)
  const changed =
    how === 'tab' ? `\t${body}` : how === 'more' ? ` ${line}` : how === 'less' ? line.slice(1) : `${' '.repeat(all[i - 1].length - all[i - 1].trimStart().length)}${body}`
  return {description: `reindent line ${i + 1} of ${file} (${how}, was ${indent} spaces): ${show(body)}`, files: withFile(BASE, file, [...all.slice(0, i), changed, ...all.slice(i + 1)].join('\n')), invalid: false}
}

/**
 * Replace one scalar value (never a key) in its source text with a flow literal: a value of a
 * type no schema allows there, null, a huge string, or unicode. Every field of every kind (and of
 * the ODCS document) is typed, so the first two are known invalid.
 */
const replaceValue: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  const text = base(file)
  const scalars: Array<{start: number; end: number; value: unknown}> = []
  for (const doc of parse(text)) {
    visit(doc, {
      Scalar(key, node) {
        if (key !== 'key' && node.range) scalars.push({start: node.range[0], end: node.range[1], value: node.value})
      },
    })
  }
  const target = rng.pick(scalars)
  const kind = rng.pick(['wrong-type', 'null', 'huge', 'unicode'] as const)
  let literal: string
  if (kind === 'wrong-type') literal = typeof target.value === 'string' ? '{fuzz: 1}' : typeof target.value === 'number' ? '[fuzz]' : '"not-a-boolean"'
  else if (kind === 'null') literal = 'null'
  else if (kind === 'huge') literal = JSON.stringify('x'.repeat(50_000 + rng.int(100_000)))
  else literal = JSON.stringify(rng.pick(['naïve café', '数据网格', 'العربية', '\u202eevil', 'e\u0301\u0301\u0301', '😀🚀👩‍👩‍👧', '\u0000nul', '\ud800lone', 'a\u2028b', '\ufeffbom']))
  return {
    description: `replace ${show(text.slice(target.start, target.end))} at offset ${target.start} of ${file} with ${kind} ${show(literal)}`,
    files: withFile(BASE, file, text.slice(0, target.start) + literal + text.slice(target.end)),
    invalid: kind === 'wrong-type' || kind === 'null',
  }
}

/** Remove a property the kind's (or the ODCS document's) JSON Schema requires. */
const removeRequired: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  const docs = parse(base(file))
  const d = rng.int(docs.length)
  const object = docs[d].toJS() as any
  const schema = ODCS_FILES.includes(file) ? odcsSchema('3.0.0') : kindInfo(object.kind)!.schema
  const at = rng.pick(requiredPaths(schema, object))
  docs[d].deleteIn(at)
  return {description: `remove required ${at.join('.')} from document ${d + 1} of ${file}`, files: withFile(BASE, file, serialize(docs)), invalid: true}
}

/** Make a reference point at nothing: rename the reference, or the resource it names. */
const renameReference: Mutator = (rng) => {
  const file = rng.pick(RESOURCE_FILES)
  const docs = parse(base(file))
  const d = rng.int(docs.length)
  const object = docs[d].toJS() as any
  const refs = (REFERENCE_PATHS[object.kind] ?? []).flatMap((p) => expand(object, p))
  const id = `${object.kind}/${object.metadata.name}`
  if (refs.length === 0 || (REFERENCED.has(id) && rng.next() < 0.3)) {
    if (!REFERENCED.has(id)) return renameReference(rng)
    docs[d].setIn(['metadata', 'name'], `${object.metadata.name}-renamed`)
    return {description: `rename ${id} (which others refer to) in ${file}`, files: withFile(BASE, file, serialize(docs)), invalid: true}
  }
  const at = rng.pick(refs)
  const old = String(docs[d].getIn(at))
  const renamed = at.includes('documentRef') ? 'missing.odcs.yaml' : at.at(-1) === 'version' ? '9.9.9' : old.includes('/') ? `${old}x` : `${old}-renamed`
  docs[d].setIn(at, renamed)
  return {description: `rename reference ${id} ${at.join('.')} from ${old} to ${renamed} in ${file}`, files: withFile(BASE, file, serialize(docs)), invalid: true}
}

/** Drop one document (or a whole contract document file). Known invalid when something refers to it. */
const dropDocument: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  if (ODCS_FILES.includes(file)) return {description: `delete the contract document ${file}`, files: withFile(BASE, file, undefined), invalid: true}
  const docs = parse(base(file))
  const d = rng.int(docs.length)
  const object = docs[d].toJS() as any
  const id = `${object.kind}/${object.metadata.name}`
  const rest = docs.filter((_, i) => i !== d)
  const text = rest.map((doc, i) => (i === 0 ? String(doc).replace(/^---\n/, '') : String(doc))).join('')
  return {description: `drop ${id} (document ${d + 1} of ${file})`, files: withFile(BASE, file, text), invalid: REFERENCED.has(id)}
}

/** Insert a `---` line. Known invalid when it splits a resource document in two non-empty halves. */
const insertSeparator: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  const all = lines(base(file))
  const k = rng.int(all.length + 1)
  const isMarker = (l: string) => /^---\s*$/.test(l)
  let before = false
  for (let i = k - 1; i >= 0 && !isMarker(all[i]); i--) if (all[i].trim() !== '') before = true
  let after = false
  for (let i = k; i < all.length && !isMarker(all[i]); i++) if (all[i].trim() !== '') after = true
  return {
    description: `insert --- before line ${k + 1} of ${file}`,
    files: withFile(BASE, file, [...all.slice(0, k), '---', ...all.slice(k)].join('\n')),
    invalid: RESOURCE_FILES.includes(file) && before && after,
  }
}

/** Insert a line that is a YAML error wherever it stands. */
const invalidYaml: Mutator = (rng) => {
  const file = rng.pick(YAML_FILES)
  const all = lines(base(file))
  const k = rng.int(all.length + 1)
  const line = rng.pick(['bogus: a: b', 'bogus: [unclosed, {a: 1]', '@reserved: indicator', '  - item: x\n bad: indentation: here'])
  return {description: `insert ${show(line)} before line ${k + 1} of ${file}`, files: withFile(BASE, file, [...all.slice(0, k), line, ...all.slice(k)].join('\n')), invalid: true}
}

/** A handful of mutations applied one after another: anything goes, and nothing may crash. */
const combined: Mutator = (rng) => {
  let files = BASE
  const steps: string[] = []
  for (let n = 2 + rng.int(3); n > 0; n--) {
    // Each mutator changes one file of BASE; carry that change over (a later one on the same file wins).
    const m = rng.pick([truncate, flip, deleteLine, reindent, replaceValue, insertSeparator])(rng)
    for (const [f, t] of m.files) if (BASE.get(f) !== t) files = withFile(files, f, t)
    steps.push(m.description)
  }
  return {description: steps.join('; then '), files, invalid: false}
}

export const CATEGORIES: Record<string, {mutator: Mutator; cases: number}> = {
  truncation: {mutator: truncate, cases: 60},
  'character flips': {mutator: flip, cases: 60},
  'deleted lines': {mutator: deleteLine, cases: 50},
  'duplicated keys': {mutator: duplicateKey, cases: 30},
  'changed indentation': {mutator: reindent, cases: 40},
  'values replaced by wrong types, null, huge strings and unicode': {mutator: replaceValue, cases: 80},
  'required fields removed': {mutator: removeRequired, cases: 40},
  'references renamed': {mutator: renameReference, cases: 40},
  'documents dropped': {mutator: dropDocument, cases: 30},
  '--- inserted': {mutator: insertSeparator, cases: 40},
  'invalid YAML inserted': {mutator: invalidYaml, cases: 20},
  'several mutations at once': {mutator: combined, cases: 40},
}

// --- pathological inputs, written out --------------------------------------------------------

function billionLaughs(indent: string): string {
  const names = 'abcdefghi'.split('')
  return names
    .map((n, i) => `${indent}${n}: &${n} [${Array.from({length: 9}, () => (i === 0 ? '"lol"' : `*${names[i - 1]}`)).join(', ')}]`)
    .join('\n')
}

const storage = (name: string, extra: string) =>
  `apiVersion: dappmesh.io/v1alpha1\nkind: DataStorage\nmetadata:\n  name: ${name}\nspec:\n  class: analytics\n  engine: duckdb\n${extra}\n`

export const SPECIAL: Mutant[] = [
  {
    description: 'billion laughs in a resource spec',
    files: withFile(BASE, 'storage/analytics.yaml', storage('analytics', billionLaughs('  '))),
    invalid: true,
  },
  {
    description: 'billion laughs in the contract document named by documentRef',
    files: withFile(BASE, 'services/orders/orders-clean.odcs.yaml', `${base('services/orders/orders-clean.odcs.yaml')}customProperties:\n  - property: lol\n    value:\n${billionLaughs('      ')}\n`),
    invalid: true,
  },
  {
    description: 'billion laughs in a file of its own, at the top level',
    files: withFile(BASE, 'bomb.yaml', billionLaughs('')),
    invalid: true,
  },
  // In a dappmesh document: a mapping of another tool's (no dappmesh apiVersion or kind) is skipped, not checked.
  {description: 'an alias to an anchor that contains it', files: withFile(BASE, 'loop.yaml', 'apiVersion: dappmesh.io/v1alpha1\nkind: DataRole\na: &a [*a]\n'), invalid: true},
  {description: 'an alias with no anchor', files: withFile(BASE, 'storage/analytics.yaml', storage('analytics', '  size: *nowhere')), invalid: true},
  {description: 'flow sequences nested 5,000 deep', files: withFile(BASE, 'storage/analytics.yaml', storage('analytics', `  x: ${'['.repeat(5000)}${']'.repeat(5000)}`)), invalid: true},
  {description: 'flow mappings nested 20,000 deep', files: withFile(BASE, 'storage/analytics.yaml', storage('analytics', `  x: ${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}`)), invalid: true},
  {
    description: 'block mappings nested 1,500 deep',
    files: withFile(BASE, 'storage/analytics.yaml', storage('analytics', `  x:\n${Array.from({length: 1500}, (_, i) => `${' '.repeat(i + 3)}a:`).join('\n')}`)),
    invalid: true,
  },
  {description: 'a 5 MB string value', files: withFile(BASE, 'storage/analytics.yaml', storage('analytics', `  version: "${'9'.repeat(5_000_000)}"`)), invalid: true},
  {description: '2,000 empty documents', files: withFile(BASE, 'empty.yaml', '---\n'.repeat(2000)), invalid: false},
  {description: 'an empty file and a comment-only file', files: withFile(withFile(BASE, 'empty.yaml', ''), 'comment.yml', '# nothing here\n'), invalid: false},
  {description: 'bytes that are not UTF-8', files: withFile(BASE, 'garbage.yaml', Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28, 0x80, 0x0a])), invalid: true},
  {description: 'a self-referencing alias inside a resource', files: withFile(BASE, 'storage/analytics.yaml', storage('analytics', '  x: &loop [*loop]')), invalid: true},
  {description: 'a resource that is a list', files: withFile(BASE, 'list.yaml', '- apiVersion: dappmesh.io/v1alpha1\n  kind: DataStorage\n'), invalid: true},
  {description: 'a resource that is a bare string', files: withFile(BASE, 'scalar.yaml', 'just a string\n'), invalid: true},
  {description: 'a merge key (<<) pulling in an anchor', files: withFile(BASE, 'storage/analytics.yaml', storage('analytics', '  base: &b {size: 1Gi}\n  <<: *b')), invalid: true},
  {description: 'a tag that is not a YAML 1.2 core tag', files: withFile(BASE, 'storage/analytics.yaml', storage('analytics', '  size: !!binary aGVsbG8=')), invalid: true},
  ...['.', '..', 'contracts.yaml', 'input.yaml', 'Containerfile', '../../../../etc/hostname', '/etc/hostname'].map((ref) => ({
    description: `a documentRef.path of ${JSON.stringify(ref)}`,
    files: withFile(BASE, 'services/orders/contracts.yaml', base('services/orders/contracts.yaml').replace('path: orders-clean.odcs.yaml', `path: ${JSON.stringify(ref)}`)),
    invalid: true,
  })),
  {description: 'a DataFlow whose transitions reference themselves', files: withFile(BASE, 'model/orders/flow.yaml', base('model/orders/flow.yaml').replace('from: [raw]', 'from: [raw, clean]')), invalid: true},
]
