import {FAILSAFE_SCHEMA, Type, loadAll} from 'js-yaml'

import {CORE_TYPES, readPlainYaml} from './plain-yaml.js'
import {type ParsedFile, PositionsNeeded, SourceDocument} from './source.js'

/*
 * Reading a file without source positions, for the common case of a valid project: js-yaml
 * builds plain data several times faster than `yaml` builds a document tree with a line counter.
 * It must read every file exactly as `parseYamlFile` does, or not at all: whatever the two
 * libraries might treat differently, and whatever `yaml` would warn about, makes this throw
 * `PositionsNeeded` and the caller reads the project again with `parseYamlFile`.
 */

// The YAML 1.2 core schema as the `yaml` library resolves plain scalars, so that js-yaml and
// plain-yaml.ts produce the values `yaml` does.
export const CORE_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: CORE_TYPES.map((t) => new Type(t.tag, {kind: 'scalar', resolve: t.resolve, construct: t.construct})),
})

/** `yaml` refuses an implicit key longer than this; js-yaml does not. */
const MAX_KEY = 1024

/** Plain scalars that resolve to null: as a key, "" in yaml but "null" in js-yaml. */
const NULL_WORDS = new Set(['~', 'null', 'Null', 'NULL'])

/**
 * Why `text` must be read with positions, or undefined when the fast reading agrees with
 * `parseYamlFile`. One pass, line by line, that knows what is quoted and what is a comment, and
 * refuses what either library may read differently or what `yaml` warns about. Conservative:
 * refusing costs only the time of the precise path.
 */
export function needsPositions(text: string): string | undefined {
  // Tabs (where they may stand is where parsers disagree most) and byte order marks.
  for (const what of ['\t', '\uFEFF', '__proto__']) {
    const at = text.indexOf(what)
    if (at !== -1) return `${JSON.stringify(what)} at offset ${at}`
  }
  const cr = LONE_CR.exec(text)
  if (cr) return `a carriage return that does not end a line at offset ${cr.index}`
  const first = lineStartProblem(text, 0)
  if (first) return first
  let depth = 0
  let quote = 0
  let lineStart = 0
  const n = text.length
  for (let i = 0; i <= n; i++) {
    // On to the next character that matters (the regular expression skips the rest natively).
    const seek = quote === 0 ? INDICATORS : quote === DQUOTE ? IN_DOUBLE_QUOTES : IN_SINGLE_QUOTES
    seek.lastIndex = i
    i = seek.test(text) ? seek.lastIndex - 1 : n
    const c = i < n ? text.charCodeAt(i) : NL
    if (quote !== 0) {
      if (c === NL) return `a quoted string spanning lines at offset ${lineStart}`
      const next = text.charCodeAt(i + 1)
      // An escape, but not of a line break: that would be a string over several lines.
      if (c === BACKSLASH && quote === DQUOTE && next !== NL && next !== CR) i++
      else if (c === quote && quote === SQUOTE && next === SQUOTE) i++
      else if (c === quote) {
        quote = 0
        if (i + 1 < n && !isCloseFollower(next) && next !== COLON) return `text right after a quoted string at offset ${i + 1}`
      }
      continue
    }
    if (c === NL) {
      // A flow collection over several lines: yaml warns about the indentation of its end.
      if (depth !== 0) return `a flow collection spanning lines at offset ${lineStart}`
      if (i - lineStart > MAX_KEY) return `a line longer than ${MAX_KEY} characters at offset ${lineStart}`
      lineStart = i + 1
      const problem = lineStartProblem(text, lineStart)
      if (problem) return problem
      continue
    }
    // Where a token may start. A quoted string or a comment only after a space or flow indicator
    // (elsewhere the quote is part of a plain scalar), since what is wrongly taken as quoted is
    // not looked at; an indicator after a colon too, since wrongly refusing costs only time.
    const before = i === lineStart ? SPACE : text.charCodeAt(i - 1)
    const afterSpace = before === SPACE || before === LBRACKET || before === LBRACE || before === COMMA
    const atToken = afterSpace || before === COLON
    switch (c) {
      case DQUOTE:
      case SQUOTE: {
        if (afterSpace) quote = c
        break
      }
      case LBRACKET:
      case LBRACE: {
        depth++
        break
      }
      case RBRACKET:
      case RBRACE: {
        if (--depth < 0) return `an unbalanced ${text[i]} at offset ${i}`
        // Text glued to it, or a flow collection as a key.
        if (i + 1 < n && !isCloseFollower(text.charCodeAt(i + 1))) return `text right after a flow collection at offset ${i + 1}`
        if (endsNullWord(text, i, lineStart)) return `a null key in a flow mapping at offset ${i}`
        break
      }
      case COMMA: {
        if (endsNullWord(text, i, lineStart)) return `a null key in a flow mapping at offset ${i}`
        break
      }
      case COLON: {
        // A key: not a null or empty one.
        if (i + 1 === n || isCloseFollower(text.charCodeAt(i + 1))) {
          if (afterSpace) return `an empty key at offset ${i}`
          if (endsNullWord(text, i, lineStart)) return `a null key at offset ${i}`
        }
        break
      }
      case HASH: {
        if (before === SPACE) {
          // A comment: on to the end of the line.
          const end = text.indexOf('\n', i)
          i = (end === -1 ? n : end) - 1
        }
        break
      }
      case BANG: {
        if (atToken) return `a tag at offset ${i}`
        break
      }
      case AMPERSAND:
      case STAR: {
        if (atToken && i + 1 < n && !isNameEnd(text.charCodeAt(i + 1))) return `an ${c === AMPERSAND ? 'anchor' : 'alias'} at offset ${i}`
        break
      }
      case QUESTION: {
        if (atToken && (i + 1 === n || isSpaceOrBreak(text.charCodeAt(i + 1)))) return `an explicit key at offset ${i}`
        break
      }
      case DASH: {
        // An empty sequence entry: js-yaml may put the less indented entries after it into it.
        if (before === SPACE && at(EMPTY_ENTRY, text, i)) return `an empty sequence entry at offset ${i}`
        break
      }
      case LT: {
        // A merge key: a plain key in YAML 1.2, a merge in YAML 1.1.
        if (text.charCodeAt(i + 1) === LT) return `a merge key at offset ${i}`
        break
      }
      default:
    }
  }
  return undefined
}

const [NL, CR, SPACE, DQUOTE, SQUOTE, BACKSLASH, COLON, COMMA, HASH, BANG, AMPERSAND, STAR, QUESTION, DASH, LT, PERCENT, DOT, LBRACKET, RBRACKET, LBRACE, RBRACE] = [
  ...'\n\r "\'\\:,#!&*?-<%.[]{}',
].map((c) => c.charCodeAt(0))

/** Directives, document end markers, content after --- (lines starting so are rare). */
function lineStartProblem(text: string, i: number): string | undefined {
  const c = text.charCodeAt(i)
  if (c === PERCENT) return `a directive at offset ${i}`
  if (c === DOT && text.startsWith('...', i)) return `a document end marker at offset ${i}`
  if (c === DASH && text.startsWith('--- ', i) && at(DOCUMENT_START_WITH_CONTENT, text, i)) return `content after --- at offset ${i}`
  return undefined
}

/** The characters `needsPositions` looks at, outside and inside quoted strings. */
const INDICATORS = /[\n"':,#!&*?<[\]{}-]/g
const IN_DOUBLE_QUOTES = /["\\\n]/g
const IN_SINGLE_QUOTES = /['\n]/g

/** What may follow a closing quote or flow indicator (js-yaml takes `"a"#b` as a comment; yaml refuses it). */
function isCloseFollower(c: number): boolean {
  return c === SPACE || c === NL || c === CR || c === COMMA || c === RBRACKET || c === RBRACE
}

function isSpaceOrBreak(c: number): boolean {
  return c === SPACE || c === NL || c === CR
}

/** What ends an anchor or alias name. */
function isNameEnd(c: number): boolean {
  return isSpaceOrBreak(c) || c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE
}

const LONE_CR = /\r(?!\n)/
const DOCUMENT_START_WITH_CONTENT = /--- +[^\s#]/y
const EMPTY_ENTRY = /-[ ]*(?:#[^\n]*)?(?:\r?\n|$)/y

/** Whether the sticky `pattern` matches at `index`. */
function at(pattern: RegExp, text: string, index: number): boolean {
  pattern.lastIndex = index
  return pattern.test(text)
}

/** Whether the token right before `end` (spaces skipped) is a null word that starts a token. */
function endsNullWord(text: string, end: number, lineStart: number): boolean {
  let j = end - 1
  while (j >= lineStart && text.charCodeAt(j) === SPACE) j--
  const last = j
  while (j >= lineStart && last - j <= 4) {
    const c = text.charCodeAt(j)
    if (c === SPACE || c === LBRACKET || c === LBRACE || c === COMMA) break
    j--
  }
  return last > j && last - j <= 4 && NULL_WORDS.has(text.slice(j + 1, last + 1))
}

/**
 * Reads a YAML file without positions into what `parseYamlFile` would return for it when it has
 * no findings, or throws `PositionsNeeded` (any parse error, or a construct the libraries might
 * read differently): then only `parseYamlFile` can say what is wrong, and where.
 */
export function parseYamlFileFast(file: string, text: string): ParsedFile {
  // The plain YAML most files are in has a reader of its own, several times faster; js-yaml reads what it refuses.
  let docs = readPlainYaml(text)
  if (!docs) {
    const reason = needsPositions(text)
    if (reason) throw new PositionsNeeded(`${file}: ${reason}`)
    try {
      // js-yaml refuses duplicate keys, and nesting deeper than 100 (the precise path decides those).
      docs = loadAll(text, undefined, {schema: CORE_SCHEMA})
    } catch (error) {
      throw new PositionsNeeded(`${file}: ${(error as Error).message.split('\n')[0]}`)
    }
  }
  const documents: SourceDocument[] = []
  for (const [index, object] of docs.entries()) {
    // An empty document (e.g. after a trailing `---`), or one that is only null.
    if (object === null || object === undefined) continue
    documents.push(new SourceDocument(file, index, undefined, undefined, object))
  }
  return {file, documents, findings: [], broken: []}
}
