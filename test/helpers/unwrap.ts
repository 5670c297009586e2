/** oclif wraps error messages to the terminal's width behind ` ›   `; this reads them as one line. */
export function unwrapped(stderr: string): string {
  return stderr.replace(/[ \t]*\n ›\s+/g, ' ').replace(/^ ›\s+/, '')
}
