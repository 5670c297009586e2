import {FAILSAFE_SCHEMA, Type, loadAll} from 'js-yaml'

import {type ParsedFile, PositionsNeeded, SourceDocument} from './source.js'

/*
 * Reading a file without source positions, for the common case of a valid project: js-yaml
 * builds plain data several times faster than `yaml` builds a document tree with a line counter.
 * It must read every file exactly as `parseYamlFile` does, or not at all: whatever the two
 * libraries might treat differently, and whatever `yaml` would warn about, makes this throw
 * `PositionsNeeded` and the caller reads the project again with `parseYamlFile`.
 */

// The YAML 1.2 core schema as the `yaml` library resolves plain scalars (yaml/dist/schema/core):
// the same tests in the same order, and the same conversions, so both produce identical values.
const NULL = /^(?:~|[Nn]ull|NULL)?$/
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/
const INT_OCT = /^0o[0-7]+$/
const INT = /^[-+]?[0-9]+$/
const INT_HEX = /^0x[0-9a-fA-F]+$/
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/

export const CORE_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type('tag:yaml.org,2002:null', {kind: 'scalar', resolve: (s: string) => NULL.test(s), construct: () => null}),
    new Type('tag:yaml.org,2002:bool', {kind: 'scalar', resolve: (s: string) => BOOL.test(s), construct: (s: string) => s[0] === 't' || s[0] === 'T'}),
    new Type('tag:yaml.org,2002:int', {
      kind: 'scalar',
      resolve: (s: string) => INT_OCT.test(s) || INT.test(s) || INT_HEX.test(s),
      construct: (s: string) => (INT_OCT.test(s) ? Number.parseInt(s.slice(2), 8) : INT.test(s) ? Number.parseInt(s, 10) : Number.parseInt(s.slice(2), 16)),
    }),
    new Type('tag:yaml.org,2002:float', {
      kind: 'scalar',
      resolve: (s: string) => FLOAT_NAN.test(s) || FLOAT_EXP.test(s) || FLOAT.test(s),
      construct: (s: string) =>
        FLOAT_NAN.test(s) ? (s.slice(-3).toLowerCase() === 'nan' ? Number.NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY) : Number.parseFloat(s),
    }),
  ],
})

/**
 * Constructs either library may read differently, or that `yaml` warns about, found by their
 * indicators. Conservative: a match inside a quoted string only costs the precise path. Tags,
 * anchors, aliases and explicit keys are found by `scan`, which knows what is quoted.
 */
const DIFFERENT = new RegExp(
  [
    '<<', // merge keys: a plain key in YAML 1.2, a merge in YAML 1.1
    '^%', // directives
    String.raw`^(?:\.\.\.|---[ \t]+[^\s#])`, // document end markers, content after ---
    String.raw`[\]}][ \t]*:(?:\s|$)`, // a flow collection as a key
    String.raw`(?:^|[\s[{,])(?:~|[Nn]ull|NULL)?[ \t]*:(?:[\s,\]}]|$)`, // a null or empty key ("" in yaml, "null" in js-yaml)
    String.raw`[[{,][ \t]*(?:~|[Nn]ull|NULL)[ \t]*[,\]}]`, // the same in a flow mapping: {null}
    String.raw`^(?:[ \t]*- )*[ \t]*-[ \t]*(?:#.*)?$`, // an empty sequence entry (js-yaml may put what follows into it)
    '__proto__',
    '\uFEFF', // byte order marks
    String.raw`\r(?!\n)`, // a carriage return that does not end a line
    '\t', // tabs: where they may stand is where parsers disagree most
  ].join('|'),
  'm',
)

/** `yaml` refuses an implicit key longer than this; js-yaml does not. */
const MAX_KEY = 1024

/** Why `text` must be read with positions, or undefined when the fast reading agrees with `parseYamlFile`. */
export function needsPositions(text: string): string | undefined {
  const m = DIFFERENT.exec(text)
  if (m) return `${JSON.stringify(m[0])} at offset ${m.index}`
  return scan(text)
}

/**
 * One pass over the text, line by line, that knows what is quoted and what is a comment. Refuses
 * tags (yaml warns on unknown ones), anchors and aliases (alias limits; "ending in :" warnings),
 * explicit keys (a collection as a key is stringified differently), lines too long for an
 * implicit key, and flow collections or quoted strings that span lines (where yaml warns about
 * indentation, and where the libraries' folding could differ).
 */
function scan(text: string): string | undefined {
  let depth = 0
  let quote = ''
  let lineStart = 0
  const n = text.length
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text[i] : '\n'
    if (c === '\n') {
      if (depth !== 0 || quote !== '') return `a flow collection or quoted string spanning lines at offset ${lineStart}`
      if (i - lineStart > MAX_KEY) return `a line longer than ${MAX_KEY} characters at offset ${lineStart}`
      lineStart = i + 1
      continue
    }
    if (quote) {
      // An escape, but not of a line break: that would be a string over several lines.
      if (c === '\\' && quote === '"' && text[i + 1] !== '\n' && text[i + 1] !== '\r') i++
      else if (c === quote && !(quote === "'" && text[i + 1] === "'")) {
        quote = ''
        // Anything glued to a closing quote (js-yaml takes `"a"#b` as a comment; yaml refuses it).
        if (i + 1 < n && !' \r\n,]}:'.includes(text[i + 1])) return `text right after a quoted string at offset ${i + 1}`
      } else if (c === quote) i++
      continue
    }
    // Where a token may start. A quoted string or a comment only after a space or flow indicator
    // (elsewhere the quote is part of a plain scalar), since what is wrongly taken as quoted is
    // not looked at; an indicator after a colon too, since wrongly refusing costs only time.
    const before = i === lineStart ? ' ' : text[i - 1]
    const atToken = ' [{,:'.includes(before)
    switch (c) {
      case '"':
      case "'": {
        if (before !== ':' && atToken) quote = c
        break
      }
      case '[':
      case '{': {
        depth++
        break
      }
      case ']':
      case '}': {
        if (--depth < 0) return `an unbalanced ${c} at offset ${i}`
        if (i + 1 < n && !' \r\n,]}:'.includes(text[i + 1])) return `text right after a flow collection at offset ${i + 1}`
        break
      }
      case '#': {
        if (before === ' ') {
          // A comment: on to the end of the line.
          const end = text.indexOf('\n', i)
          i = (end === -1 ? n : end) - 1
        }
        break
      }
      case '!': {
        if (atToken) return `a tag at offset ${i}`
        break
      }
      case '&':
      case '*': {
        if (atToken && i + 1 < n && !' \n\r,[]{}'.includes(text[i + 1])) return `an ${c === '&' ? 'anchor' : 'alias'} at offset ${i}`
        break
      }
      case '?': {
        if (atToken && (i + 1 === n || ' \n\r'.includes(text[i + 1]))) return `an explicit key at offset ${i}`
        break
      }
      default:
    }
  }
  return undefined
}

/**
 * Reads a YAML file without positions into what `parseYamlFile` would return for it when it has
 * no findings, or throws `PositionsNeeded` (any parse error, or a construct the libraries might
 * read differently): then only `parseYamlFile` can say what is wrong, and where.
 */
export function parseYamlFileFast(file: string, text: string): ParsedFile {
  const reason = needsPositions(text)
  if (reason) throw new PositionsNeeded(`${file}: ${reason}`)
  let docs: unknown[]
  try {
    // js-yaml refuses duplicate keys, and nesting deeper than 100 (the precise path decides those).
    docs = loadAll(text, undefined, {schema: CORE_SCHEMA})
  } catch (error) {
    throw new PositionsNeeded(`${file}: ${(error as Error).message.split('\n')[0]}`)
  }
  const documents: SourceDocument[] = []
  for (const [index, object] of docs.entries()) {
    // An empty document (e.g. after a trailing `---`), or one that is only null.
    if (object === null || object === undefined) continue
    documents.push(new SourceDocument(file, index, undefined, undefined, object))
  }
  return {file, documents, findings: [], broken: []}
}
