import {existsSync, readFileSync} from 'node:fs'

import {ExitCode, TimeoutError, UsageError, UserError} from '../errors.js'
import type {RunRecord} from './runs.js'

/** Where a pod finds its ServiceAccount's token. */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

export interface TriggerOptions {
  workflow: string
  url: string
  /** A bearer token; when unset, the token file if any. */
  token?: string
  tokenFile?: string
  /** Wait for the run to end (default); false returns the started run. */
  wait: boolean
  timeoutMs: number
  /** How often to ask how the run is going. */
  pollMs?: number
  onProgress?: (run: RunRecord) => void
}

/** The runtime Service of a product in the cluster, as the operator names it. */
export function runtimeUrl(product: string, namespace: string, port = 8080): string {
  return `http://${product}-runtime.${namespace}.svc:${port}`
}

function tokenOf(options: TriggerOptions): string | undefined {
  if (options.token) return options.token
  const file = options.tokenFile ?? (existsSync(SERVICE_ACCOUNT_TOKEN) ? SERVICE_ACCOUNT_TOKEN : undefined)
  if (!file) return undefined
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (error) {
    throw new UsageError(`cannot read the token file ${file}: ${(error as Error).message}`, ['Pass --token-file with a readable file, or --token.'])
  }
}

/**
 * Asks a runtime to run a workflow (POST /v1/workflows/NAME/runs) and follows the run until it
 * ends. The run's own failure is exit 1; a runtime that cannot be reached exit 3; still running at
 * the timeout exit 4 (the run goes on in the runtime).
 */
export async function triggerWorkflow(options: TriggerOptions): Promise<RunRecord> {
  let base: URL
  try {
    base = new URL(options.url)
  } catch {
    throw new UsageError(`--url ${options.url} is not a URL`, ['Pass the runtime\'s base URL, e.g. http://127.0.0.1:8080.'])
  }
  const token = tokenOf(options)
  const headers: Record<string, string> = {accept: 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})}
  /** The runtime's answer: a RunRecord, or on failure {error: {message}} (or text that is not JSON, wrapped so). */
  type Answer = RunRecord & {error?: {message?: string}}
  const ask = async (method: string, path: string): Promise<{status: number; body: Answer | undefined}> => {
    let res: Response
    try {
      res = await fetch(new URL(path, base), {method, headers, signal: AbortSignal.timeout(30_000)})
    } catch (error) {
      throw new UserError(`the runtime at ${base.origin} cannot be reached: ${((error as Error).cause as Error)?.message ?? (error as Error).message}`, {
        exit: ExitCode.unreachable,
        suggestions: ['Start it with dappmesh serve, or check --url (in the cluster: the product\'s runtime Service).'],
      })
    }
    const text = await res.text()
    let body: Answer | undefined
    try {
      body = JSON.parse(text) as Answer
    } catch {
      body = {error: {message: text.slice(0, 200)}} as Answer
    }
    return {status: res.status, body}
  }
  const started = await ask('POST', `/v1/workflows/${encodeURIComponent(options.workflow)}/runs`)
  if (started.status !== 202) {
    const message = started.body?.error?.message ?? `HTTP ${started.status}`
    const exit = started.status === 401 || started.status === 403 ? ExitCode.failed : started.status === 404 ? ExitCode.usage : ExitCode.failed
    throw new UserError(`the runtime refused to run workflow ${options.workflow} (HTTP ${started.status}): ${message}`, {exit})
  }
  let run = started.body as RunRecord
  options.onProgress?.(run)
  if (!options.wait) return run
  const deadline = Date.now() + options.timeoutMs
  let poll = options.pollMs ?? 250
  while (run.status === 'running') {
    if (Date.now() >= deadline) {
      throw new TimeoutError(`run ${run.id} of workflow ${options.workflow} was still running after ${Math.round(options.timeoutMs / 1000)}s (it goes on in the runtime)`, [`Follow it with GET ${base.origin}/v1/runs/${run.id}, or wait longer with --timeout.`])
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(poll, Math.max(0, deadline - Date.now()))))
    poll = Math.min(poll * 2, 2000)
    const now = await ask('GET', `/v1/runs/${run.id}`)
    if (now.status !== 200) throw new UserError(`run ${run.id} is no longer known to the runtime (HTTP ${now.status}: ${now.body?.error?.message ?? ''}); did it restart?`)
    run = now.body as RunRecord
    options.onProgress?.(run)
  }
  return run
}
