import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

/**
 * The exclusion rules of a build context, read from `.containerignore` (buildah and podman read
 * it first) or else `.dockerignore`, with Docker's semantics (moby/patternmatcher): `*` and `?`
 * stay within one path segment, `**` spans any number, a pattern that matches a directory
 * excludes everything under it, `!` re-includes, and the last matching pattern wins.
 */
export interface IgnoreRules {
  /** The file the rules came from, relative to the context, if any. */
  file?: string
  /** True when `relPath` (slash-separated, relative to the context) is excluded. */
  excludes(relPath: string): boolean
  /** True when some `!` pattern could re-include a path under an excluded directory. */
  hasExceptions: boolean
}

export const IGNORE_FILES = ['.containerignore', '.dockerignore'] as const

interface Pattern {
  regex: RegExp
  segments: number
  exception: boolean
}

export function readIgnoreRules(contextDir: string): IgnoreRules {
  for (const name of IGNORE_FILES) {
    const file = path.join(contextDir, name)
    if (existsSync(file)) return {...parseIgnoreRules(readFileSync(file, 'utf8')), file: name}
  }
  return parseIgnoreRules('')
}

export function parseIgnoreRules(text: string): IgnoreRules {
  const patterns: Pattern[] = []
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const exception = line.startsWith('!')
    if (exception) line = line.slice(1).trim()
    line = path.posix.normalize(line)
    if (line.length > 1 && line.startsWith('/')) line = line.slice(1)
    if (line.endsWith('/') && line.length > 1) line = line.slice(0, -1)
    if (line === '' || line === '.') continue
    patterns.push({regex: patternRegex(line), segments: line.split('/').length, exception})
  }
  return {
    hasExceptions: patterns.some((p) => p.exception),
    excludes(relPath: string): boolean {
      const file = path.posix.normalize(relPath)
      const parents = path.posix.dirname(file).split('/').filter((s) => s !== '.')
      let excluded = false
      for (const p of patterns) {
        let match = p.regex.test(file)
        // A pattern naming a directory excludes what is under it: match it against the leading
        // directories of the path, as many as the pattern has segments.
        if (!match && parents.length >= p.segments) match = p.regex.test(parents.slice(0, p.segments).join('/'))
        if (match) excluded = !p.exception
      }
      return excluded
    },
  }
}

/** Docker's translation of a pattern into an anchored regular expression. */
function patternRegex(pattern: string): RegExp {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++
        if (pattern[i + 1] === '/') {
          i++
          re += '(.*/)?'
        } else {
          re += '.*'
        }
      } else {
        re += '[^/]*'
      }
    } else if (ch === '?') {
      re += '[^/]'
    } else if (ch === '\\' && i + 1 < pattern.length) {
      re += escapeChar(pattern[++i])
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1)
      if (end === -1) {
        re += '\\['
      } else {
        let cls = pattern.slice(i + 1, end)
        if (cls.startsWith('!')) cls = '^' + cls.slice(1)
        re += `[${cls.replace(/\\/g, '\\\\')}]`
        i = end
      }
    } else {
      re += escapeChar(ch)
    }
  }
  return new RegExp(re + '$')
}

function escapeChar(ch: string): string {
  return /[.+^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch
}
