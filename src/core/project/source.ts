import {createRequire} from 'node:module'

import type {Document, LineCounter, Node} from 'yaml'

import {type Finding, toPointer} from '../validate/finding.js'
import {explainMissingQuote, firstCauses, isMissingQuote} from './yaml-error.js'

export interface Position {
  line: number
  column: number
}

const require = createRequire(import.meta.url)

/** The yaml library, loaded on first use: a valid project is read without it (see fast-source.ts). */
let yamlModule: typeof import('yaml') | undefined
function yaml(): typeof import('yaml') {
  yamlModule ??= require('yaml') as typeof import('yaml')
  return yamlModule
}

/**
 * How often one anchor may be expanded when a document becomes plain data. Real projects use a
 * handful of aliases; a "billion laughs" bomb needs many more, and is refused as a `yaml` finding.
 */
export const MAX_ALIAS_COUNT = 100

/**
 * Thrown when a position is asked of a document read without positions (the fast path of
 * `validateDirectory`): the run is then redone with positions, from scratch.
 */
export class PositionsNeeded extends Error {
  constructor(reason = 'a finding needs the source positions') {
    super(reason)
    this.name = 'PositionsNeeded'
  }
}

/**
 * One YAML document of a file, with what is needed to point back into the text. A document read
 * without positions (`doc` and `lines` undefined) carries only its data; asking it for a
 * position throws `PositionsNeeded`.
 */
export class SourceDocument {
  constructor(
    readonly file: string,
    readonly index: number,
    private readonly parsed: Document.Parsed | undefined,
    private readonly lines: LineCounter | undefined,
    /** The document as plain data (aliases expanded), converted once when the file is parsed. */
    readonly object: unknown = undefined,
  ) {}

  /** Whether this document was read with its positions (else only `object` is there). */
  get hasPositions(): boolean {
    return this.parsed !== undefined
  }

  get doc(): Document.Parsed {
    if (!this.parsed) throw new PositionsNeeded()
    return this.parsed
  }

  /**
   * The position of the node at `segments`, or of its nearest existing ancestor (a missing
   * required property is reported where its parent object is). With `key`, a map entry's key is
   * located instead of its value, which is where an unknown field should point.
   */
  locate(segments: ReadonlyArray<string | number>, options: {key?: boolean} = {}): Position {
    const {isMap, isPair, isScalar, isSeq} = yaml()
    let node: unknown = this.doc.contents
    let offset = rangeStart(node) ?? 0
    for (const [i, segment] of segments.entries()) {
      const last = i === segments.length - 1
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment))
        if (!pair) break
        if (last && options.key) {
          offset = rangeStart(pair.key) ?? offset
          break
        }
        node = pair.value
        offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)]
        if (item === undefined) break
        node = item
        offset = rangeStart(node) ?? offset
      } else {
        break
      }
    }
    const {line, col} = this.lines!.linePos(offset)
    return {line, column: col}
  }

  finding(segments: ReadonlyArray<string | number>, fields: Omit<Finding, 'file' | 'line' | 'column' | 'path'>, options: {key?: boolean} = {}): Finding {
    const pos = this.locate(segments, options)
    return {file: this.file, line: pos.line, column: pos.column, path: toPointer(segments), ...fields}
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range
  return range ? range[0] : undefined
}

export interface ParsedFile {
  file: string
  documents: SourceDocument[]
  findings: Finding[]
  /** Documents that did not parse; kept so their kind and name still count as defined. */
  broken: SourceDocument[]
}

/**
 * Parses every document of a YAML file. Syntax errors and duplicate keys become `yaml` findings;
 * a document with errors is dropped so later rules never see half-parsed data.
 */
export function parseYamlFile(file: string, text: string): ParsedFile {
  const {LineCounter, isScalar, parseAllDocuments} = yaml()
  const lines = new LineCounter()
  const findings: Finding[] = []
  const documents: SourceDocument[] = []
  const broken: Document.Parsed[] = []
  // Refused before parsing: how deep the parser's recursion gets before the stack runs out varies
  // from run to run, and a finding must not.
  const deep = tooDeep(text)
  if (deep) {
    lines.addNewLine(0)
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1)
    const pos = lines.linePos(deep.offset)
    return {file, documents, broken: [], findings: [{file, line: pos.line, column: pos.col, path: '', rule: 'yaml', severity: 'error', message: deep.message}]}
  }
  let docs: Document.Parsed[]
  try {
    docs = parseAllDocuments(text, {lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true}) as Document.Parsed[]
  } catch (error) {
    return {file, documents, broken: [], findings: [{file, line: 1, column: 1, path: '', rule: 'yaml', severity: 'error', message: `cannot parse YAML: ${(error as Error).message}`}]}
  }
  if (!Array.isArray(docs)) docs = [docs as unknown as Document.Parsed]
  for (const [index, doc] of docs.entries()) {
    if (doc.errors.length > 0) {
      broken.push(doc)
      for (const error of firstCauses(doc.errors)) {
        const quote = isMissingQuote(error) ? explainMissingQuote(text, error) : undefined
        const pos = lines.linePos(quote?.offset ?? error.pos[0])
        const duplicate = error.code === 'DUPLICATE_KEY'
        findings.push({
          file,
          line: pos.line,
          column: pos.col,
          path: '',
          rule: 'yaml',
          severity: 'error',
          message: duplicate
            ? `duplicate key "${keyAt(text, error.pos[0])}"; keep one of the two entries`
            : invalidYaml(quote?.message ?? firstLine(error.message)),
        })
      }
      continue
    }
    for (const warning of doc.warnings) {
      const pos = lines.linePos(warning.pos[0])
      findings.push({file, line: pos.line, column: pos.col, path: '', rule: 'yaml', severity: 'warning', message: firstLine(warning.message)})
    }
    // An empty document, e.g. after a trailing `---`.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue
    let object: unknown
    try {
      object = doc.toJS({maxAliasCount: MAX_ALIAS_COUNT})
    } catch (error) {
      // yaml refuses an alias bomb ("billion laughs") and an alias with no anchor before it, when
      // converting: the document is unusable, not the run.
      broken.push(doc)
      const reason = firstLine((error as Error).message)
      const pos = lines.linePos(aliasOffset(doc) ?? doc.range[0])
      findings.push({
        file,
        line: pos.line,
        column: pos.col,
        path: '',
        rule: 'yaml',
        severity: 'error',
        message: /excessive alias count/i.test(reason)
          ? 'aliases expand to too much data (as in a "billion laughs" attack); write the values out or use fewer aliases'
          : invalidYaml(reason),
      })
      continue
    }
    documents.push(new SourceDocument(file, index, doc, lines, object))
  }
  return {file, documents, findings, broken: broken.map((doc) => new SourceDocument(file, -1, doc, lines))}
}

/** Where aliases went wrong: the first alias with no anchor before it, else the first alias. */
function aliasOffset(doc: Document.Parsed): number | undefined {
  let first: Node | undefined
  let unresolved: Node | undefined
  const {visit} = yaml()
  visit(doc, {
    Alias(_, node) {
      first ??= node
      if (node.resolve(doc) !== undefined) return undefined
      unresolved = node
      return visit.BREAK
    },
  })
  return (unresolved ?? first)?.range?.[0]
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
}

/** The key a duplicate-key error points at: the text from the error up to the colon. */
function keyAt(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1
  const line = text.slice(start, text.indexOf('\n', offset) === -1 ? undefined : text.indexOf('\n', offset))
  return line.replace(/^[\s-]*/, '').split(':')[0].trim()
}

/** The message of a YAML error; a stack overflow (a value nested thousands deep) said in words. */
function invalidYaml(reason: string): string {
  if (/maximum call stack/i.test(reason)) {
    const detail = /\((.+)\)$/.exec(reason)?.[1]
    return `invalid YAML: values are nested too deeply to read${detail ? ` (${detail})` : ''}; no dappmesh resource nests more than a few dozen levels, so flatten this value`
  }
  return `invalid YAML: ${reason}`
}

/** Deeper than any dappmesh resource nests, and well before the parser's recursion could fail. */
export const MAX_FLOW_DEPTH = 256
export const MAX_INDENT = 1000

/**
 * Where `text` nests too deeply to be read safely: a flow collection ([ or {) open more than
 * MAX_FLOW_DEPTH deep, or a line indented more than MAX_INDENT columns. Quoted strings and
 * comments are skipped; brackets inside plain scalars are counted (harmless: it takes hundreds).
 */
export function tooDeep(text: string): {offset: number; message: string} | undefined {
  let depth = 0
  let quote = ''
  let lineStart = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\n') {
      lineStart = i + 1
      let j = lineStart
      while (text[j] === ' ') j++
      if (j - lineStart > MAX_INDENT) return {offset: j, message: invalidYaml(`maximum call stack (a line indented ${j - lineStart} columns, more than ${MAX_INDENT})`)}
      continue
    }
    if (quote) {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) quote = ''
      continue
    }
    if ((c === '"' || c === "'") && (i === lineStart || ' [{,:'.includes(text[i - 1]))) quote = c
    else if (c === '#' && (i === lineStart || text[i - 1] === ' ')) {
      const end = text.indexOf('\n', i)
      i = (end === -1 ? text.length : end) - 1
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_DEPTH) return {offset: i, message: invalidYaml(`maximum call stack (flow collections open more than ${MAX_FLOW_DEPTH} deep)`)}
    } else if ((c === ']' || c === '}') && depth > 0) depth--
  }
  return undefined
}
