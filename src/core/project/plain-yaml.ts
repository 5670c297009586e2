/*
 * A reader for the plain YAML that projects are written in, and for nothing else: block mappings
 * and sequences, plain and quoted scalars on one line, flow collections on one line, literal block
 * scalars (`|`, `|-`) and comments. It reads a file in one pass, several times faster than a
 * general parser, and answers only when its reading is certainly the one `parseYamlFile` (the
 * yaml library, YAML 1.2 core schema) gives without a finding or warning: anything else (anchors,
 * tags, folded or multi-line scalars, quoted or non-string keys, duplicate keys, tabs, CR, odd
 * indentation, ...) makes it return undefined, and the caller reads the file the slower way.
 * test/unit/plain-yaml.test.ts compares the two readings over every YAML file of the repository
 * and thousands of mutations of them.
 */

import {MAX_FLOW_DEPTH, MAX_INDENT} from './source.js'

// --- plain scalars, as the yaml library's core schema resolves them (yaml/dist/schema/core) -----

const NULL = /^(?:~|[Nn]ull|NULL)?$/
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/
const INT_OCT = /^0o[0-7]+$/
const INT = /^[-+]?[0-9]+$/
const INT_HEX = /^0x[0-9a-fA-F]+$/
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/

/** Whether a plain scalar could be a number at all (the regular expressions decide), by its first character. */
function numberLike(s: string): boolean {
  const c = s.charCodeAt(0)
  return (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 // 0-9 + - .
}

/**
 * The core schema's implicit types: the same tests (no two match one scalar, so their order is
 * moot) and the same conversions. A length or first character rules most scalars out cheaply.
 * fast-source.ts gives js-yaml these very types.
 */
export const CORE_TYPES: ReadonlyArray<{tag: string; resolve: (s: string) => boolean; construct: (s: string) => unknown}> = [
  {tag: 'tag:yaml.org,2002:null', resolve: (s) => s.length <= 4 && NULL.test(s), construct: () => null},
  {tag: 'tag:yaml.org,2002:bool', resolve: (s) => (s.length === 4 || s.length === 5) && BOOL.test(s), construct: (s) => s[0] === 't' || s[0] === 'T'},
  {
    tag: 'tag:yaml.org,2002:int',
    resolve: (s) => numberLike(s) && (INT.test(s) || INT_OCT.test(s) || INT_HEX.test(s)),
    construct: (s) => (INT_OCT.test(s) ? Number.parseInt(s.slice(2), 8) : INT.test(s) ? Number.parseInt(s, 10) : Number.parseInt(s.slice(2), 16)),
  },
  {
    tag: 'tag:yaml.org,2002:float',
    resolve: (s) => numberLike(s) && (FLOAT.test(s) || FLOAT_EXP.test(s) || FLOAT_NAN.test(s)),
    construct: (s) =>
      FLOAT_NAN.test(s) ? (s.slice(-3).toLowerCase() === 'nan' ? Number.NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY) : Number.parseFloat(s),
  },
]

/** The value of a plain scalar. */
export function resolvePlain(s: string): unknown {
  // Most scalars are words: no null or bool is longer than 5 characters, and a number starts so.
  if (s.length > 5 && !numberLike(s)) return s
  for (let i = 0; i < CORE_TYPES.length; i++) if (CORE_TYPES[i].resolve(s)) return CORE_TYPES[i].construct(s)
  return s
}

// --- the reader ---------------------------------------------------------------------------------

/** Thrown inside the reader when the text leaves the subset; never escapes readPlainYaml. */
const REFUSED = Symbol('refused')

/** `yaml` refuses an implicit key longer than this. */
const MAX_KEY = 1024
/** Deeper than any dappmesh resource nests (source.ts refuses far deeper nesting as a finding). */
const MAX_DEPTH = 64

const [NL, SPACE, HASH, DASH, COLON, COMMA, DQUOTE, SQUOTE, BACKSLASH, PIPE, LBRACKET, RBRACKET, LBRACE, RBRACE, DOT, PERCENT] = [
  ...'\n #-:,"\'\\|[]{}.%',
].map((c) => c.charCodeAt(0))

/** Characters that may not start a plain scalar or key here (YAML's indicators, and `<` for merge keys). */
const NOT_PLAIN_START = new Set([...'-?:,[]{}#&*!|>\'"%@`<'].map((c) => c.charCodeAt(0)))
/** Characters refused inside a key (quotes and flow indicators: legal in places, never in a project). */
const NOT_IN_KEY = new Set([...'#"\'[]{},'].map((c) => c.charCodeAt(0)))
/** The flow indicators that end a plain scalar inside a flow collection. */
const FLOW_END = new Set([COMMA, LBRACKET, RBRACKET, LBRACE, RBRACE])

const ESCAPES: Record<string, string> = {'0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1B', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00A0', L: '\u2028', P: '\u2029'}

/**
 * The documents of `text` as plain data (an empty document is null), or undefined when the text
 * is not in the subset this reader is sure of.
 */
export function readPlainYaml(text: string): unknown[] | undefined {
  // Where parsers disagree most (tabs, CR line ends, byte order marks), and a key JavaScript objects treat specially.
  if (text.includes('\t') || text.includes('\r') || text.includes('\uFEFF') || text.includes('__proto__')) return undefined
  // source.ts counts brackets anywhere (in scalars too) against its nesting limit: so many are refused.
  if (count(text, '[') + count(text, '{') > MAX_FLOW_DEPTH) return undefined
  try {
    return new Reader(text).documents()
  } catch (error) {
    if (error === REFUSED) return undefined
    throw error
  }
}

class Reader {
  private readonly n: number
  /** Start of the line after the current one. */
  private pos = 0
  /** The current content line (not blank, not only a comment): its start, indentation, end; -1 at the end of the text. */
  private ls = -1
  private ind = 0
  private le = 0
  private depth = 0
  /** Where the last value read inside a line (quoted, flow) ended. */
  private at = 0

  constructor(private readonly text: string) {
    this.n = text.length
  }

  documents(): unknown[] {
    const docs: unknown[] = []
    let open = false
    let value: unknown = null
    let filled = false
    this.next()
    while (this.ls !== -1) {
      const {text, ls} = this
      if (this.ind === 0 && this.atMarker()) {
        // `---` alone (a comment may follow): a new document.
        if (text.charCodeAt(ls) !== DASH) refuse()
        this.endLine(ls + 3)
        if (open) docs.push(value)
        open = true
        value = null
        filled = false
        continue
      }
      // One node per document; the root of a project file is a mapping or a sequence.
      if (filled) refuse()
      value = this.block(-1)
      filled = true
      open = true
    }
    if (open) docs.push(value)
    return docs
  }

  /** Whether the current line, at column 0, starts with `---`, `...` or a directive. */
  private atMarker(): boolean {
    const {text, ls} = this
    const c = text.charCodeAt(ls)
    if (c === PERCENT) refuse()
    if ((c === DASH || c === DOT) && text.charCodeAt(ls + 1) === c && text.charCodeAt(ls + 2) === c) {
      const after = text.charCodeAt(ls + 3)
      if (ls + 3 === this.n || after === NL || after === SPACE) return true
    }
    return false
  }

  /** On to the next content line, skipping blank and comment lines. */
  private next(): void {
    const {text, n} = this
    let i = this.pos
    while (i < n) {
      let end = text.indexOf('\n', i)
      if (end === -1) end = n
      let j = i
      while (j < end && text.charCodeAt(j) === SPACE) j++
      // source.ts refuses any line indented too deeply, blank ones included.
      if (j - i > MAX_INDENT) refuse()
      if (j < end && text.charCodeAt(j) !== HASH) {
        this.ls = i
        this.ind = j - i
        this.le = end
        this.pos = end + 1
        return
      }
      i = end + 1
    }
    this.ls = -1
    this.pos = n
  }

  /** Whether the current line ends or returns to a shallower node than one at `indent`. */
  private done(indent: number): boolean {
    return this.ls === -1 || this.ind < indent || (this.ind === 0 && this.atMarker())
  }

  /** The rest of the line from `i` holds nothing but spaces and a comment; then on to the next content line. */
  private endLine(i: number): void {
    const {text} = this
    const start = i
    while (i < this.le && text.charCodeAt(i) === SPACE) i++
    if (i < this.le && !(text.charCodeAt(i) === HASH && i > start)) refuse()
    this.next()
  }

  /** A block node whose first line is the current one, indented more than `parent`. */
  private block(parent: number): unknown {
    if (this.ind <= parent) refuse()
    if (++this.depth > MAX_DEPTH) refuse()
    const start = this.ls + this.ind
    const value = this.isEntry(start) ? this.sequence(this.ind) : this.mapping(this.ind, start)
    this.depth--
    return value
  }

  /** Whether a sequence entry (`-` then a space or the line end) starts at `i`. */
  private isEntry(i: number): boolean {
    if (this.text.charCodeAt(i) !== DASH) return false
    const after = this.text.charCodeAt(i + 1)
    return i + 1 === this.le || after === SPACE
  }

  /** A block sequence whose entries start at column `indent`, the first on the current line. */
  private sequence(indent: number): unknown[] {
    const out: unknown[] = []
    const {text} = this
    for (;;) {
      let i = this.ls + indent + 1
      while (i < this.le && text.charCodeAt(i) === SPACE) i++
      if (i === this.le || text.charCodeAt(i) === HASH) {
        // The entry is on the lines below; an empty entry is where the readers differ.
        this.next()
        if (this.done(indent + 1)) refuse()
        out.push(this.block(indent))
      } else if (this.isEntry(i)) {
        refuse() // `- - x`
      } else if (this.keyEnd(i) !== -1) {
        out.push(this.mapping(i - this.ls, i))
      } else {
        out.push(this.inline(i, indent))
      }
      if (this.done(indent)) return out
      if (this.ind > indent) refuse()
      if (!this.isEntry(this.ls + indent)) return out
    }
  }

  /**
   * Where the key starting at `i` ends (its colon), or -1 when no plain key starts there. Refuses
   * a key the readers might take differently (quoted, with flow indicators, too long).
   */
  private keyEnd(i: number): number {
    const {text, le} = this
    const first = text.charCodeAt(i)
    if (NOT_PLAIN_START.has(first) && !(first === DASH && i + 1 < le && text.charCodeAt(i + 1) !== SPACE)) return -1
    for (let j = i; j < le; j++) {
      const c = text.charCodeAt(j)
      if (c === COLON && (j + 1 === le || text.charCodeAt(j + 1) === SPACE)) {
        if (text.charCodeAt(j - 1) === SPACE || j - i > MAX_KEY) refuse()
        return j
      }
      if (NOT_IN_KEY.has(c)) return -1
    }
    return -1
  }

  /** A block mapping whose keys start at column `indent`, the first on the current line at `first`. */
  private mapping(indent: number, first: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const {text} = this
    let i = first
    for (;;) {
      const colon = this.keyEnd(i)
      if (colon === -1) refuse()
      const key = resolvePlain(text.slice(i, colon))
      if (typeof key !== 'string' || Object.hasOwn(out, key)) refuse()
      let v = colon + 1
      while (v < this.le && text.charCodeAt(v) === SPACE) v++
      if (v === this.le || text.charCodeAt(v) === HASH) {
        // The value is on the lines below: a more indented node, a sequence at this indentation, or nothing.
        this.next()
        if (this.ls !== -1 && this.ind > indent) out[key as string] = this.block(indent)
        else if (this.ls !== -1 && this.ind === indent && this.isEntry(this.ls + indent)) out[key as string] = this.sequence(indent)
        else out[key as string] = null
      } else {
        out[key as string] = this.inline(v, indent)
      }
      if (this.done(indent)) return out
      if (this.ind > indent) refuse()
      i = this.ls + indent
      if (this.isEntry(i)) refuse()
    }
  }

  /** A value that starts on this line at `i`, in a node at column `indent`; moves on past it. */
  private inline(i: number, indent: number): unknown {
    const {text} = this
    const c = text.charCodeAt(i)
    if (c === LBRACKET || c === LBRACE || c === DQUOTE || c === SQUOTE) {
      const value = c === LBRACKET || c === LBRACE ? this.flow(i) : this.quoted(i)
      this.endLine(this.at)
      return value
    }
    if (c === PIPE) return this.literal(i, indent)
    if (NOT_PLAIN_START.has(c) && !(c === DASH && text.charCodeAt(i + 1) !== SPACE && i + 1 < this.le)) refuse()
    // A plain scalar: to the end of the line or a comment, on this line only.
    let end = i
    while (end < this.le && !(text.charCodeAt(end) === HASH && text.charCodeAt(end - 1) === SPACE)) end++
    while (text.charCodeAt(end - 1) === SPACE) end--
    const s = text.slice(i, end)
    if (s.includes(': ') || s.endsWith(':')) refuse()
    this.next()
    return resolvePlain(s)
  }

  /** A literal block scalar (`|` or `|-`) at `i`, in a node at column `indent`; moves on past it. */
  private literal(i: number, indent: number): string {
    const {text, n} = this
    let h = i + 1
    let strip = false
    if (text.charCodeAt(h) === DASH) {
      strip = true
      h++
    }
    // `|+`, indentation indicators: rare, refused.
    const after = text.charCodeAt(h)
    if (h < this.le && after !== SPACE) refuse()
    while (h < this.le && text.charCodeAt(h) === SPACE) h++
    if (h < this.le && text.charCodeAt(h) !== HASH) refuse()
    // The content's indentation is the first non-blank line's.
    let contentIndent = -1
    let widestBlank = 0
    for (let s = this.le + 1; s < n; ) {
      let end = text.indexOf('\n', s)
      if (end === -1) end = n
      let j = s
      while (j < end && text.charCodeAt(j) === SPACE) j++
      if (j < end) {
        contentIndent = j - s
        break
      }
      widestBlank = Math.max(widestBlank, end - s)
      s = end + 1
    }
    // An empty scalar, or leading blank lines wider than the content: where the readers may differ.
    if (contentIndent <= indent || widestBlank > contentIndent) refuse()
    let body = ''
    let blanks = 0
    let s = this.le + 1
    while (s < n) {
      let end = text.indexOf('\n', s)
      if (end === -1) end = n
      let j = s
      while (j < end && text.charCodeAt(j) === SPACE) j++
      if (j === end) {
        // Spaces beyond the indentation on a blank line are content in YAML: refused, not guessed.
        if (end - s > contentIndent) refuse()
        blanks++
      } else {
        if (j - s < contentIndent) break
        body += '\n'.repeat(blanks) + text.slice(s + contentIndent, end) + '\n'
        blanks = 0
      }
      s = end + 1
    }
    this.pos = Math.min(s, n)
    this.next()
    return strip ? body.slice(0, -1) : body
  }

  /** A quoted scalar at `i` on this line; `at` is set after its closing quote. */
  private quoted(i: number): string {
    const {text, le} = this
    const q = text.charCodeAt(i)
    let out = ''
    let from = i + 1
    for (let j = from; ; j++) {
      // A string over several lines is folded: refused.
      if (j >= le) refuse()
      const c = text.charCodeAt(j)
      if (c === q) {
        out += text.slice(from, j)
        if (q === SQUOTE && text.charCodeAt(j + 1) === SQUOTE) {
          out += "'"
          from = ++j + 1
          continue
        }
        this.at = j + 1
        return out
      }
      if (c !== BACKSLASH || q !== DQUOTE) continue
      out += text.slice(from, j)
      const e = text[j + 1]
      const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0
      if (width > 0) {
        const hex = text.slice(j + 2, j + 2 + width)
        if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) refuse()
        const code = Number.parseInt(hex, 16)
        if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) refuse()
        out += String.fromCodePoint(code)
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e]
      } else {
        refuse()
      }
      j += 1 + width
      from = j + 1
    }
  }

  /** A flow collection at `i`, closed on this line; `at` is set after it. */
  private flow(i: number): unknown {
    if (++this.depth > MAX_DEPTH) refuse()
    const {text} = this
    const open = text.charCodeAt(i)
    const close = open === LBRACKET ? RBRACKET : RBRACE
    const list: unknown[] = []
    const map: Record<string, unknown> = {}
    i = this.skipSpaces(i + 1)
    if (text.charCodeAt(i) === close) {
      this.depth--
      this.at = i + 1
      return open === LBRACKET ? list : map
    }
    for (;;) {
      if (open === LBRACKET) {
        list.push(this.flowItem(i))
        i = this.at
      } else {
        // A plain key, `: ` and a value: nothing else is sure to read alike.
        let j = i
        const first = text.charCodeAt(j)
        if (NOT_PLAIN_START.has(first)) refuse()
        while (j < this.le && !(text.charCodeAt(j) === COLON && text.charCodeAt(j + 1) === SPACE)) {
          const c = text.charCodeAt(j)
          if (NOT_IN_KEY.has(c) || c === COLON) refuse()
          j++
        }
        if (j >= this.le || text.charCodeAt(j - 1) === SPACE) refuse()
        const key = resolvePlain(text.slice(i, j))
        if (typeof key !== 'string' || Object.hasOwn(map, key)) refuse()
        map[key as string] = this.flowItem(this.skipSpaces(j + 1))
        i = this.at
      }
      i = this.skipSpaces(i)
      const c = text.charCodeAt(i)
      if (c === close) {
        this.depth--
        this.at = i + 1
        return open === LBRACKET ? list : map
      }
      if (c !== COMMA) refuse()
      i = this.skipSpaces(i + 1)
      // An empty entry or a trailing comma.
      if (text.charCodeAt(i) === COMMA || text.charCodeAt(i) === close) refuse()
    }
  }

  /** One entry of a flow collection at `i`; `at` is set after it. */
  private flowItem(i: number): unknown {
    const {text, le} = this
    if (i >= le) refuse()
    const c = text.charCodeAt(i)
    if (c === LBRACKET || c === LBRACE) return this.flow(i)
    if (c === DQUOTE || c === SQUOTE) return this.quoted(i)
    if (NOT_PLAIN_START.has(c) && !(c === DASH && i + 1 < le && text.charCodeAt(i + 1) !== SPACE && !FLOW_END.has(text.charCodeAt(i + 1)))) refuse()
    let j = i
    while (j < le) {
      const d = text.charCodeAt(j)
      if (FLOW_END.has(d)) break
      // `a: b` (a pair in a sequence), `a:` and comments: refused.
      if (d === COLON && (j + 1 === le || text.charCodeAt(j + 1) === SPACE || FLOW_END.has(text.charCodeAt(j + 1)))) refuse()
      if (d === HASH && text.charCodeAt(j - 1) === SPACE) refuse()
      j++
    }
    if (j >= le) refuse()
    let end = j
    while (text.charCodeAt(end - 1) === SPACE) end--
    this.at = j
    return resolvePlain(text.slice(i, end))
  }

  private skipSpaces(i: number): number {
    while (i < this.le && this.text.charCodeAt(i) === SPACE) i++
    return i
  }
}

function count(text: string, what: string): number {
  let n = 0
  for (let i = text.indexOf(what); i !== -1; i = text.indexOf(what, i + 1)) n++
  return n
}

function refuse(): never {
  throw REFUSED
}
