import {UserError} from '../errors.js'

/** Exit code of a process ended by SIGINT, as shells report it (128 + 2). */
export const INTERRUPTED_EXIT = 130

/** The run was stopped (Ctrl-C): nothing was published. */
export class RunInterrupted extends UserError {
  constructor() {
    super('interrupted: the run was stopped before it published anything, so every state is as it was')
    this.name = 'RunInterrupted'
  }
}

/** Whether DuckDB stopped a statement because the run was interrupted. */
export function isInterruption(error: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (error instanceof Error && /^INTERRUPT Error/i.test(error.message))
}
