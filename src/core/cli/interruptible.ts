import {type Progress, progress} from './progress.js'

export interface InterruptibleOptions {
  /** Show progress on stderr (only where someone watches: not with --json, not on a pipe). */
  showProgress: boolean
  /** Printed on stderr when Ctrl-C stopped the work. */
  interrupted: string
  /** Ends the process with the interrupted exit code (the command's `this.exit`). */
  exit: () => never
}

/**
 * Runs a command's long work so that Ctrl-C aborts it (through the signal it is given) instead
 * of killing the process mid-write, with a spinner while it runs. Shared by `run` and `test`.
 */
export async function interruptible<T>(work: (signal: AbortSignal, shown: Progress | undefined) => Promise<T>, options: InterruptibleOptions): Promise<T> {
  const controller = new AbortController()
  const onSigint = () => controller.abort()
  process.once('SIGINT', onSigint)
  const shown = options.showProgress && process.stderr.isTTY ? progress() : undefined
  try {
    const result = await work(controller.signal, shown)
    shown?.done()
    return result
  } catch (error) {
    shown?.fail()
    if (controller.signal.aborted) {
      process.stderr.write(`${options.interrupted}\n`)
      options.exit()
    }
    throw error
  } finally {
    process.off('SIGINT', onSigint)
  }
}
