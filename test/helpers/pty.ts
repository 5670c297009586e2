import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'

function matchOf(text: string, re: RegExp): {at: number; length: number} {
  const m = re.exec(text)
  return m ? {at: m.index, length: m[0].length} : {at: -1, length: 0}
}

/** ANSI escape sequences (cursor moves, erases, colours) removed, so prompts read as text. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')
}

export const KEY = {enter: '\r', down: '\u001b[B', up: '\u001b[A', space: ' ', backspace: '\u007f', ctrlC: '\u0003'}

/**
 * A command run in a real pseudo-terminal (util-linux `script`), driven by writing keys to it:
 * what a user at a terminal would do, with no native modules. Every wait is bounded; `kill()`
 * stops the process group by PID.
 */
export class PtySession {
  readonly child: ChildProcessWithoutNullStreams
  output = ''
  private seen = 0
  private exited?: number | null
  private readonly exit: Promise<number | null>

  constructor(command: string, options: {cwd?: string; env?: NodeJS.ProcessEnv; columns?: number} = {}) {
    // stty gives the terminal a size: a pty made from a pipe starts at 0x0.
    const shell = `stty cols ${options.columns ?? 120} rows 40; exec ${command}`
    this.child = spawn('script', ['-qfec', shell, '/dev/null'], {
      cwd: options.cwd,
      env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', TERM: 'xterm', ...options.env},
      detached: true, // its own process group, so kill() reaches the command too
    })
    this.child.stdout.on('data', (d: Buffer) => (this.output += d.toString('utf8')))
    this.child.stderr.on('data', (d: Buffer) => (this.output += d.toString('utf8')))
    this.exit = new Promise((resolve) => this.child.on('close', (code) => resolve((this.exited = code))))
  }

  /** Waits until `text` appears in the output after what earlier waits consumed; returns the output up to it. */
  async expect(text: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const rest = plain(this.output).slice(this.seen)
      const match = typeof text === 'string' ? {at: rest.indexOf(text), length: text.length} : matchOf(rest, text)
      if (match.at >= 0) {
        // The next wait starts after this match: prompts that arrived since stay to be seen.
        this.seen += match.at + match.length
        return rest.slice(0, match.at + match.length)
      }
      if (this.exited !== undefined) throw new Error(`process exited (${this.exited}) before ${String(text)} appeared; output:\n${plain(this.output)}`)
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(text)}; output:\n${plain(this.output)}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  /** Types keys; a short pause lets the prompt render between keys like a human's. */
  async type(...keys: string[]): Promise<void> {
    for (const k of keys) {
      this.child.stdin.write(k)
      await new Promise((r) => setTimeout(r, 30))
    }
  }

  async wait(timeoutMs = 20_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for exit; output:\n${plain(this.output)}`)), timeoutMs)
    })
    try {
      return await Promise.race([this.exit, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  kill(): void {
    if (this.exited !== undefined || this.child.pid === undefined) return
    try {
      process.kill(-this.child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}
