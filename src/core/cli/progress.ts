import {ux} from '@oclif/core'

export interface Progress {
  step(message: string): void
  done(message?: string): void
  fail(): void
}

/**
 * Progress on stderr, so stdout stays clean for --json and pipes: a spinner on a TTY, plain
 * timestamped-free lines otherwise (CI logs, pipes).
 */
export function progress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    let started = false
    return {
      step(message) {
        if (started) ux.action.stop('done')
        ux.action.start(message)
        started = true
      },
      done(message = 'done') {
        if (started) ux.action.stop(message)
        started = false
      },
      fail() {
        if (started) ux.action.stop('failed')
        started = false
      },
    }
  }
  return {
    step: (message) => stream.write(`${message}...\n`),
    done: (message) => {
      if (message) stream.write(`${message}\n`)
    },
    fail: () => {},
  }
}
