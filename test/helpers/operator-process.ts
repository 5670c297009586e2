import {type ChildProcess, spawn} from 'node:child_process'

import {BIN} from './cli.js'

/** A `dappmesh operator run` child process that a test may also kill (SIGKILL: no graceful stop). */
export interface OperatorProcess {
  child: ChildProcess
  log: () => string
  /** whether it is still running */
  alive: () => boolean
  /** the health (and metrics) endpoint, once known (with --health-port) */
  url: () => string | undefined
  /** resolves once its log matches, or throws with the log after `ms` or when it exits */
  waitFor: (pattern: RegExp, ms?: number) => Promise<void>
  /** sends the signal (if running) and resolves with the exit code, or the signal's name */
  kill: (signal?: NodeJS.Signals) => Promise<number | string | null>
}

export function spawnOperator(args: string[], env: NodeJS.ProcessEnv = {}): OperatorProcess {
  let log = ''
  const child = spawn(process.execPath, [BIN, 'operator', 'run', ...args], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NO_COLOR: '1', ...env}})
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')))
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  const alive = () => child.exitCode === null && child.signalCode === null
  return {
    child,
    log: () => log,
    alive,
    url: () => /health endpoints on (\S+)/.exec(log)?.[1],
    async waitFor(pattern, ms = 60_000) {
      const deadline = Date.now() + ms
      while (!pattern.test(log)) {
        if (!alive() || Date.now() > deadline) throw new Error(`the operator ${alive() ? 'did not log' : 'exited before logging'} ${pattern}; its log:\n${log}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    async kill(signal = 'SIGTERM') {
      if (alive()) child.kill(signal)
      return exited
    },
  }
}

/** The sum of every series of a Prometheus counter, e.g. dappmesh_api_writes_total{…}, and the series themselves. */
export async function counterTotal(url: string, name: string): Promise<{total: number; series: string[]}> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const series = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
  return {total: series.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0), series}
}
