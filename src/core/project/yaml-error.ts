import type {YAMLError} from 'yaml'

/*
 * A YAML syntax error usually sets off many more: once a quoted string or an indentation is
 * misread, every later line is misread too (a string continued on a line indented no deeper than
 * its key gave 76 copies of `Missing closing "quote`). The parser's first cause is what the user
 * must fix; the rest would go away with it.
 */

/** The errors of one document worth reporting: its first syntax error, and every duplicate key. */
export function firstCauses(errors: readonly YAMLError[]): YAMLError[] {
  const duplicates = errors.filter((e) => e.code === 'DUPLICATE_KEY')
  const syntax = errors.filter((e) => e.code !== 'DUPLICATE_KEY')
  // An unclosed quote is reported where the string ends, which may be after the errors it caused.
  const quote = syntax.find(isMissingQuote)
  const first = quote ?? syntax.reduce<YAMLError | undefined>((a, e) => (a === undefined || e.pos[0] < a.pos[0] ? e : a), undefined)
  return [...(first ? [first] : []), ...duplicates].sort((a, b) => a.pos[0] - b.pos[0])
}

export function isMissingQuote(error: YAMLError): boolean {
  return error.code === 'MISSING_CHAR' && /closing ["']quote/.test(error.message)
}

/**
 * What went wrong with a quoted string that `error` (a missing closing quote) says is unclosed:
 * either a line of it is indented no deeper than its key (so YAML cannot read that line as part of
 * the string), or it is never closed. The offset is where to change the text.
 */
export function explainMissingQuote(text: string, error: YAMLError): {offset: number; message: string} | undefined {
  const quote = error.message.includes('"quote') ? '"' : "'"
  const open = openingQuote(text, Math.min(error.pos[0], text.length), quote)
  if (open === undefined) return undefined
  const lineStart = text.lastIndexOf('\n', open - 1) + 1
  const head = text.slice(lineStart, open)
  const keyMatch = /^(\s*(?:-\s+)*)([^\s:#][^:]*?)\s*:\s*$/.exec(head)
  const {line, column} = lineAndColumn(text, open)
  const next = nextContentLine(text, open)
  if (keyMatch && next && next.indent <= keyMatch[1].length) {
    const key = keyMatch[2]
    const nextLine = line + next.lines
    return {
      offset: next.offset,
      message:
        `line ${nextLine} is indented no deeper than the key "${key}" (line ${line}), so it cannot continue the quoted string that starts there; ` +
        `indent the string's later lines deeper than "${key}", or close the string on line ${line}`,
    }
  }
  return {offset: open, message: `the quoted string that starts at line ${line}, column ${column} is never closed; add the closing ${quote}`}
}

/** The opening quote of the string that runs up to `end`: the last unescaped quote before it. */
function openingQuote(text: string, end: number, quote: string): number | undefined {
  for (let i = end - 1; i >= 0; i--) {
    if (text[i] !== quote) continue
    if (quote === '"') {
      let backslashes = 0
      while (text[i - 1 - backslashes] === '\\') backslashes++
      if (backslashes % 2 === 0) return i
    } else if (text[i - 1] === "'") {
      i-- // '' is a quote inside a single-quoted string
    } else {
      return i
    }
  }
  return undefined
}

/** The first line after the one holding `offset` that has content: its indentation and where that ends. */
function nextContentLine(text: string, offset: number): {offset: number; indent: number; lines: number} | undefined {
  let lines = 0
  for (let start = text.indexOf('\n', offset) + 1; start > 0; start = text.indexOf('\n', start) + 1) {
    lines++
    let i = start
    while (text[i] === ' ') i++
    if (i < text.length && text[i] !== '\n' && text[i] !== '\r') return {offset: i, indent: i - start, lines}
  }
  return undefined
}

function lineAndColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++
  return {line, column: offset - (text.lastIndexOf('\n', offset - 1) + 1) + 1}
}
