/*
 * `dappmesh validate` without oclif, for the plain invocations CI pipelines and editors repeat
 * all day: `validate [DIR] [--json] [-o text|json|junit|sarif]`. Loading oclif and its command
 * tree costs about 60 ms, a third of validating a thousand documents. bin/run.js asks this module
 * first; anything it does not recognise (--help, --against, an unknown flag, a usage error, a
 * failure) returns false before a byte is written, and oclif runs the command as always. Output
 * and exit codes are the command's own (test/unit/validate-fast-entry.test.ts compares both paths).
 */
import {ExitCode} from '../errors.js'
import {validateDirectory} from './validate.js'

const FORMATS = new Set(['text', 'json', 'junit', 'sarif'])

interface Invocation {
  dir: string
  output: string
  json: boolean
}

/** The invocation, when it is one this path answers exactly as the command would; else undefined. */
export function parseFastInvocation(argv: string[]): Invocation | undefined {
  if (argv[0] !== 'validate') return undefined
  let dir: string | undefined
  let output: string | undefined
  let json = false
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]
    let value: string | undefined
    if (a === '--json') {
      if (json) return undefined
      json = true
      continue
    }
    if (a === '-o' || a === '--output') value = argv[++i]
    else if (a.startsWith('--output=')) value = a.slice('--output='.length)
    else if (a.startsWith('-o') && a.length > 2 && !a.startsWith('--')) value = a.slice(2).replace(/^=/, '')
    else if (!a.startsWith('-') && dir === undefined && a !== '') {
      dir = a
      continue
    } else return undefined
    // A repeated, missing or unknown value is oclif's to report.
    if (output !== undefined || value === undefined || !FORMATS.has(value)) return undefined
    output = value
  }
  return {dir: dir ?? '.', output: output ?? 'text', json}
}

/** Runs validate when `argv` is a plain invocation; false (having written nothing) otherwise. */
export async function tryFastValidate(argv: string[]): Promise<boolean> {
  if (process.env.DAPPMESH_FAST_ENTRY === '0' || process.env.DAPPMESH_CONTENT_TYPE) return false
  const invocation = parseFastInvocation(argv)
  if (!invocation) return false
  let result
  try {
    result = await validateDirectory(invocation.dir)
  } catch {
    // A missing directory and the like: the command reports it in its usual words.
    return false
  }
  let out: string
  if (invocation.json || invocation.output === 'json') {
    out = JSON.stringify(result, null, 2)
  } else if (invocation.output === 'junit') {
    out = (await import('./report/junit.js')).formatJunit(result)
  } else if (invocation.output === 'sarif') {
    out = (await import('./report/sarif.js')).formatSarif(result, await packageVersion())
  } else {
    out = (await import('./report/text.js')).formatText(result)
  }
  process.stdout.write(`${out}\n`)
  if (!result.valid) process.exitCode = ExitCode.failed
  return true
}

async function packageVersion(): Promise<string> {
  const {readFileSync} = await import('node:fs')
  return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version
}
