import {type ChildProcess, spawn} from 'node:child_process'

import {BIN} from './cli.js'

export interface OperatorChild {
  /** everything it wrote on stderr so far */
  log: () => string
  /** the health (and metrics) endpoint, when started with --health-port */
  url?: string
  /** SIGTERM, then wait for it to exit; resolves with the exit code */
  stop: () => Promise<number | null>
}

/** Starts `dappmesh operator run ARGS` from dist/ and resolves once its caches are synced. */
export async function startOperator(args: string[], options: {env?: NodeJS.ProcessEnv; timeoutMs?: number} = {}): Promise<OperatorChild> {
  let log = ''
  const child: ChildProcess = spawn(process.execPath, [BIN, 'operator', 'run', ...args], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NO_COLOR: '1', ...options.env}})
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    return exited
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  while (!/caches synced/.test(log)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`the operator did not start:\n${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const url = /health endpoints on (\S+)/.exec(log)?.[1]
  return {log: () => log, url, stop}
}

/** The value of one Prometheus counter line, e.g. dappmesh_reconciles_total{controller="mesh"}. */
export async function metricValue(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

/** Calls `check` until it returns a truthy value or the time is up (then throws its last error). */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 60_000): Promise<Exclude<T, false | undefined | null | 0 | ''>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as Exclude<T, false | undefined | null | 0 | ''>
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}
