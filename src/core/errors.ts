/**
 * Errors a user can fix, each with the exit code DESIGN §4 documents. Anything else that reaches
 * the top of a command is a bug: it is reported as one and shows its stack only under DEBUG.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  timeout: 4,
  /** Stopped by Ctrl-C (SIGINT): 128 + 2, what a shell reports for a process the signal ended. */
  interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export class UserError extends Error {
  readonly exit: ExitCode
  readonly suggestions: string[]

  constructor(message: string, options: {exit?: ExitCode; suggestions?: string[]; cause?: unknown} = {}) {
    super(message, {cause: options.cause})
    this.name = 'UserError'
    this.exit = options.exit ?? ExitCode.failed
    this.suggestions = options.suggestions ?? []
  }
}

export class UsageError extends UserError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, {exit: ExitCode.usage, suggestions})
    this.name = 'UsageError'
  }
}

export class ClusterUnreachableError extends UserError {
  constructor(message: string, suggestions: string[] = [], cause?: unknown) {
    super(message, {exit: ExitCode.unreachable, suggestions, cause})
    this.name = 'ClusterUnreachableError'
  }
}

export class TimeoutError extends UserError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, {exit: ExitCode.timeout, suggestions})
    this.name = 'TimeoutError'
  }
}

export class InterruptedError extends UserError {
  constructor(message: string) {
    super(message, {exit: ExitCode.interrupted})
    this.name = 'InterruptedError'
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError
}
