import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {type Document, parseAllDocuments, visit} from 'yaml'

import {kindInfo} from '../../src/core/model/kinds.js'
import {RULES} from '../../src/core/validate/finding.js'
import {odcsSchema} from '../../src/core/validate/odcs-schema.js'
import {type ValidationResult, validateDirectory} from '../../src/core/validate/validate.js'
import {ROOT, STACK_TRACE, cli} from '../helpers/cli.js'

/*
 * Fuzzing of the loader and the validator with projects derived from examples/orders. Every case
 * is drawn from a seeded PRNG, so a failure names its seed, case and mutation and reproduces with
 * DAPPMESH_FUZZ_SEED=<seed>. Properties: validation never throws; a mutation known to break the
 * project is never reported valid; every finding has a file of the project, a line and column
 * (1-based, inside the file), a documented rule and a message. Through the built CLI: exit 0 or 1
 * (1 when known invalid), and never a stack trace or an internal error.
 */

const SEED = Number(process.env.DAPPMESH_FUZZ_SEED ?? 20_261_124)
const EXAMPLE = path.join(ROOT, 'examples/orders')
/** The brief's own definition of a stack trace in user-facing output. */
const STACK_LINE = /\n\s+at .+\(.*:\d+:\d+\)/
/** A case that takes longer than this is a hang (alias bombs, pathological nesting). */
const CASE_LIMIT_MS = 10_000

/** A project in memory: project-relative path → content (a Buffer for bytes that are not UTF-8). */
type Files = Map<string, string | Buffer>

interface Mutant {
  description: string
  files: Files
  /** Known to make the project invalid: the result must not be valid. */
  invalid: boolean
}

// --- deterministic randomness -----------------------------------------------------------------

class Rng {
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

function caseSeed(category: string, index: number): number {
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

const BASE = readTree(EXAMPLE)
const YAML_FILES = [...BASE.keys()].filter((f) => /\.ya?ml$/.test(f)).sort()
/** Files holding dappmesh resources (the others are contract documents named by a documentRef). */
const RESOURCE_FILES = YAML_FILES.filter((f) => base(f).startsWith('apiVersion: dappmesh.io/'))
const ODCS_FILES = YAML_FILES.filter((f) => !RESOURCE_FILES.includes(f))

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

function withFile(files: Files, file: string, text: string | Buffer | undefined): Files {
  const out = new Map(files)
  if (text === undefined) out.delete(file)
  else out.set(file, text)
  return out
}

function lines(text: string | Buffer): string[] {
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

type Mutator = (rng: Rng) => Mutant

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
  const schema = ODCS_FILES.includes(file) ? odcsSchema('3.0') : kindInfo(object.kind)!.schema
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

const CATEGORIES: Record<string, {mutator: Mutator; cases: number}> = {
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

const SPECIAL: Mutant[] = [
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
  {description: 'an alias to an anchor that contains it', files: withFile(BASE, 'loop.yaml', 'a: &a [*a]\n'), invalid: true},
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

// --- running a case -----------------------------------------------------------------------------

let scratch = ''
let counter = 0
/** Set when a case fails: the projects are then kept on disk (the failure names the path). */
let keep = false

function writeProject(files: Files): string {
  const dir = path.join(scratch, `case-${++counter}`)
  for (const [file, text] of files) {
    mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
    writeFileSync(path.join(dir, file), text)
  }
  mkdirSync(dir, {recursive: true})
  return dir
}

/** What is wrong with a result, or undefined when every property holds. */
function problemWith(result: ValidationResult, mutant: Mutant): string | undefined {
  if (mutant.invalid && result.valid) return 'reported valid, but the mutation is known to make the project invalid'
  const errors = result.findings.filter((f) => f.severity === 'error').length
  if (result.valid !== (errors === 0)) return `valid is ${result.valid} with ${errors} error finding(s)`
  for (const f of result.findings) {
    const where = JSON.stringify(f)
    if (typeof f.file !== 'string' || !mutant.files.has(f.file)) return `finding names a file that is not in the project: ${where}`
    if (!Number.isInteger(f.line) || f.line < 1) return `finding has no line ≥ 1: ${where}`
    if (!Number.isInteger(f.column) || f.column < 1) return `finding has no column ≥ 1: ${where}`
    if (f.line > lines(mutant.files.get(f.file)!).length) return `finding's line is past the end of ${f.file}: ${where}`
    if (!(RULES as readonly string[]).includes(f.rule)) return `finding has an undocumented rule: ${where}`
    if (f.severity !== 'error' && f.severity !== 'warning') return `finding has severity ${f.severity}: ${where}`
    if (typeof f.message !== 'string' || f.message.trim() === '') return `finding has no message: ${where}`
  }
  return undefined
}

async function check(label: string, mutant: Mutant): Promise<void> {
  const dir = writeProject(mutant.files)
  const started = Date.now()
  let problem: string | undefined
  try {
    problem = problemWith(await validateDirectory(dir), mutant)
  } catch (error) {
    problem = `validateDirectory threw: ${(error as Error).stack ?? String(error)}`
  }
  const ms = Date.now() - started
  if (!problem && ms > CASE_LIMIT_MS) problem = `took ${ms} ms (limit ${CASE_LIMIT_MS})`
  // A failing case's project stays on disk for a look.
  keep ||= Boolean(problem)
  if (problem) assert.fail(`${label} (DAPPMESH_FUZZ_SEED=${SEED}): ${mutant.description}\n${problem}\nproject kept at ${dir}`)
  rmSync(dir, {recursive: true, force: true})
}

describe('fuzz', () => {
  before(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-fuzz-'))
  })
  after(() => {
    if (!keep) rmSync(scratch, {recursive: true, force: true})
  })

  describe('loader and validator on mutated copies of examples/orders', function () {
    this.timeout(120_000)

    it('the unmutated example is valid (the baseline every mutation starts from)', async () => {
      const result = await validateDirectory(writeProject(BASE))
      assert.equal(result.valid, true, JSON.stringify(result.findings, null, 2))
    })

    for (const [name, {mutator, cases}] of Object.entries(CATEGORIES)) {
      it(`never throws, flags known-invalid projects, and locates every finding: ${cases} cases of ${name}`, async () => {
        for (let i = 0; i < cases; i++) await check(`${name} #${i} (case seed ${caseSeed(name, i)})`, mutator(new Rng(caseSeed(name, i))))
      })
    }

    for (const mutant of SPECIAL) {
      it(`handles ${mutant.description} without throwing or hanging${mutant.invalid ? ', and reports it invalid' : ''}`, async () => {
        await check('special case', mutant)
      })
    }

    it('reports an alias bomb as a yaml finding at the first alias, keeping the resource defined (regression)', async () => {
      const dir = writeProject(SPECIAL[0].files)
      const result = await validateDirectory(dir)
      const bomb = result.findings.filter((f) => f.file === 'storage/analytics.yaml')
      assert.equal(bomb.length, 1, JSON.stringify(result.findings))
      assert.equal(bomb[0].rule, 'yaml')
      assert.match(bomb[0].message, /aliases expand to too much data .*billion laughs/)
      assert.deepEqual([bomb[0].line, bomb[0].column], [9, 10])
      // The broken DataStorage still counts as defined: no `ref` findings cascade from it.
      assert.deepEqual(result.findings.filter((f) => f.rule === 'ref'), [])
      rmSync(dir, {recursive: true, force: true})
    })

    it('reports an alias with no anchor as a yaml finding at that alias (regression)', async () => {
      const dir = writeProject(SPECIAL.find((m) => m.description === 'an alias with no anchor')!.files)
      const result = await validateDirectory(dir)
      assert.deepEqual(
        result.findings.map((f) => [f.file, f.line, f.column, f.rule, f.message]),
        [['storage/analytics.yaml', 8, 9, 'yaml', 'invalid YAML: Unresolved alias (the anchor must be set before the alias): nowhere']],
      )
      rmSync(dir, {recursive: true, force: true})
    })
  })

  describe('the built CLI on mutated projects', function () {
    this.timeout(180_000)
    const CLI_CASES = 30

    it(`exits 0 or 1 (1 when known invalid), with no stack trace, for ${CLI_CASES} mutated projects`, () => {
      const rng = new Rng(caseSeed('cli', 0))
      const mutators = Object.values(CATEGORIES).map((c) => c.mutator)
      const mutants = [SPECIAL[0], SPECIAL[6], ...Array.from({length: CLI_CASES - 2}, () => rng.pick(mutators)(rng))]
      for (const [i, mutant] of mutants.entries()) {
        const dir = writeProject(mutant.files)
        const json = i % 2 === 1
        const r = cli(['validate', dir, ...(json ? ['--json'] : [])])
        keep = true // until this case has passed
        const context = `CLI case ${i} (DAPPMESH_FUZZ_SEED=${SEED}): ${mutant.description}\nexit ${r.code}\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 1500)}\nproject kept at ${dir}`
        assert.ok(r.code === 0 || r.code === 1, context)
        if (mutant.invalid) assert.equal(r.code, 1, context)
        for (const output of [r.stdout, r.stderr]) {
          assert.doesNotMatch(output, STACK_LINE, context)
          assert.doesNotMatch(output, STACK_TRACE, context)
          assert.doesNotMatch(output, /internal error|This is a bug in dappmesh/, context)
        }
        if (json) assert.equal(JSON.parse(r.stdout).valid, r.code === 0, context)
        keep = false
        rmSync(dir, {recursive: true, force: true})
      }
    })
  })
})
