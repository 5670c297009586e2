import {Command, Errors} from '@oclif/core'

import {ExitCode, isUserError} from '../errors.js'

/**
 * Every dappmesh command extends this: `--json` comes from oclif, user errors become one clear
 * message with the documented exit code, and a bug shows its stack only with DEBUG=dappmesh*.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<any> {
    if (isUserError(error)) {
      if (this.jsonEnabled()) {
        this.logJson({error: {message: error.message, exit: error.exit, suggestions: error.suggestions}})
        this.exit(error.exit)
      }
      this.error(error.message, {exit: error.exit, suggestions: error.suggestions.length > 0 ? error.suggestions : undefined})
    }
    // this.exit(): the command already printed what it had to (JSON included); just leave.
    if (error instanceof Errors.ExitError) throw error
    // oclif's own parse errors (unknown flag, missing argument) are usage errors: exit 2.
    if (error instanceof Errors.CLIError && error.oclif?.exit !== undefined && error.oclif.exit !== 0) {
      if (isParseError(error)) error.oclif.exit = ExitCode.usage
      return super.catch(error)
    }
    if (process.env.DEBUG && /dappmesh/.test(process.env.DEBUG)) {
      process.stderr.write(`${error.stack ?? String(error)}\n`)
    }
    this.error(`internal error: ${error.message}\nThis is a bug in dappmesh. Run again with DEBUG=dappmesh* to see the stack, and report it.`, {
      exit: ExitCode.failed,
    })
  }
}

function isParseError(error: Error): boolean {
  const names = ['RequiredArgsError', 'UnexpectedArgsError', 'NonExistentFlagsError', 'FailedFlagValidationError', 'CLIParseError', 'ArgInvalidOptionError', 'FlagInvalidOptionError']
  return names.includes(error.constructor.name) || error.constructor.name.endsWith('ParseError')
}
