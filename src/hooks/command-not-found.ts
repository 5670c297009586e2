import {type Hook, toConfiguredId} from '@oclif/core'

import {ExitCode} from '../core/errors.js'
import {writeFailure} from '../core/cli/error-output.js'
import {closest} from '../core/closest.js'

/**
 * A mistyped command is a usage error (exit 2) that names the closest command, with or without a
 * terminal. It replaces @oclif/plugin-not-found, which asks "Did you mean ...?" on a terminal and
 * otherwise exits 127 without a suggestion; 127 is the shell's "command not found", which a
 * script cannot tell from dappmesh itself missing.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const ids = options.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const typed = toConfiguredId(options.id, options.config)
  const suggestion = closest(options.id, ids)
  const didYouMean = suggestion ? `; did you mean "${options.config.bin} ${toConfiguredId(suggestion, options.config)}"?` : '.'
  const suggestions = [`Run ${options.config.bin} --help for a list of commands.`]
  const json = (options.argv ?? []).includes('--json')
  writeFailure({message: `${typed} is not a ${options.config.bin} command${didYouMean}`, exit: ExitCode.usage, suggestions}, json)
  this.exit(ExitCode.usage)
}

export default hook
