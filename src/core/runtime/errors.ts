/**
 * An answer other than 2xx that the runtime gives on purpose: the status and a message that says
 * what was wrong and how to fix it. Every error body is `{error: {message, ...details}}`.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }

  body(): {error: Record<string, unknown>} {
    return {error: {message: this.message, status: this.status, ...this.details}}
  }
}
