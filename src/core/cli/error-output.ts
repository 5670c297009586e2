/**
 * How every failure reaches the user: as text on stderr, or with `--json` as one small JSON
 * object on stdout (where the result would have been), `{"error": {"message", "exit", "suggestions"}}`.
 * The text looks like oclif's (` ›   Error: ...`, ` ›   Try this: ...`) but is never wrapped: a
 * terminal wraps long lines itself, and a log or a pipe must keep a message on one line to grep it.
 */
import type {ExitCode} from '../errors.js'

export interface Failure {
  message: string
  exit: ExitCode
  suggestions: string[]
}

/** The `--json` form of a failure (src/core/cli/error-schema.ts describes it). */
export function failureJson(failure: Failure): {error: Failure} {
  return {error: {message: failure.message, exit: failure.exit, suggestions: failure.suggestions}}
}

/** The text form of a failure, one ` › `-prefixed line per line of the message, ending with a newline. */
export function failureText(failure: Failure): string {
  const lines = `Error: ${failure.message}`.split('\n')
  if (failure.suggestions.length === 1) lines.push(`Try this: ${failure.suggestions[0]}`)
  else if (failure.suggestions.length > 1) lines.push('Try this:', ...failure.suggestions.map((s) => `  * ${s}`))
  return lines.map((line) => ` ›   ${line}`).join('\n') + '\n'
}

/** The text form of a warning, one ` › `-prefixed line per line. */
export function warningText(message: string): string {
  return `Warning: ${message}`.split('\n').map((line) => ` ›   ${line}`).join('\n') + '\n'
}

/** Writes a failure where it belongs: JSON on stdout with `--json`, else text on stderr. */
export function writeFailure(failure: Failure, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(failureJson(failure), null, 2)}\n`)
  else process.stderr.write(failureText(failure))
}
