import {Command, Errors, ux} from '@oclif/core'

import {ExitCode, isUserError} from '../errors.js'
import {type Failure, warningText, writeFailure} from './error-output.js'

/**
 * Every dappmesh command extends this: `--json` comes from oclif, user errors become one clear
 * message with the documented exit code, and a bug shows its stack only with DEBUG=dappmesh*.
 * With `--json` every failure (usage errors included) is one small JSON object on stdout.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // this.exit(): the command already printed what it had to (JSON included); just leave.
    if (error instanceof Errors.ExitError) throw error
    const failure = describeFailure(error)
    if (failure === undefined) {
      if (process.env.DEBUG && /dappmesh/.test(process.env.DEBUG)) process.stderr.write(`${error.stack ?? String(error)}\n`)
    }
    // A spinner still turning would overwrite the message.
    if (ux.action.running) ux.action.stop('!')
    const shown = failure ?? {
      message: `internal error: ${error.message}\nThis is a bug in dappmesh. Run again with DEBUG=dappmesh* to see the stack, and report it.`,
      exit: ExitCode.failed,
      suggestions: [],
    }
    const exit = this.failureExit(shown.exit)
    writeFailure({...shown, exit}, this.jsonEnabled())
    this.exit(exit)
  }

  /** A warning on stderr, like oclif's but never wrapped (see error-output.ts); silent with --json. */
  override warn(input: string | Error): string | Error {
    if (!this.jsonEnabled()) process.stderr.write(warningText(input instanceof Error ? input.message : input))
    return input
  }

  /** The exit code for a failure; a command whose exit 1 means something else (diff) maps it. */
  protected failureExit(exit: ExitCode): ExitCode {
    return exit
  }
}

/** What the user should read for an error they can fix; undefined for a bug. */
function describeFailure(error: Error & {oclif?: {exit?: number}; suggestions?: string[]}): Failure | undefined {
  if (isUserError(error)) return {message: error.message, exit: error.exit, suggestions: error.suggestions}
  // oclif's own parse errors (unknown flag, missing argument, bad option) are usage errors: exit 2.
  if (error instanceof Errors.CLIError && isParseError(error)) return {message: error.message, exit: ExitCode.usage, suggestions: error.suggestions ?? []}
  // Any other error oclif raised on purpose (this.error in a command) keeps its exit code.
  if (error instanceof Errors.CLIError && error.oclif?.exit !== undefined && error.oclif.exit !== 0) {
    return {message: error.message, exit: error.oclif.exit as ExitCode, suggestions: error.suggestions ?? []}
  }
  return undefined
}

function isParseError(error: Error): boolean {
  const names = ['RequiredArgsError', 'UnexpectedArgsError', 'NonExistentFlagsError', 'FailedFlagValidationError', 'CLIParseError', 'ArgInvalidOptionError', 'FlagInvalidOptionError']
  return names.includes(error.constructor.name) || error.constructor.name.endsWith('ParseError')
}
