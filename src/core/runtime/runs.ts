import {randomBytes} from 'node:crypto'

import {parseDuration} from '../duration.js'
import type {DataWorkflow} from '../model/types.js'
import type {RunLog} from './run-log.js'

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'timed-out' | 'abandoned'

export interface ActivityRecord {
  name: string
  transition: string
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'timed-out' | 'skipped'
  attempts: number
  ms: number
  error?: string
}

export interface RunRecord {
  id: string
  workflow: string
  status: RunStatus
  startedAt: string
  finishedAt: string | null
  ms: number | null
  activities: ActivityRecord[]
  /** What the run published, as `dappmesh run --json` reports it (null until it finished). */
  result: unknown
  error: string | null
}

/**
 * What executes a workflow's transitions: opened once per run, asked to run each activity's
 * transition (in dependency order, possibly several times when retried), then to publish every
 * state at once, or to discard everything (a failure, a timeout, SIGTERM).
 */
export interface RunSession {
  /** Pulls the workflow's input sources into the run (first, before any activity), when the session has any. */
  ingest?(signal: AbortSignal): Promise<void>
  runTransition(transition: string, signal: AbortSignal): Promise<void>
  /** Publishes all the run's writes atomically; returns the run's report. */
  commit(signal: AbortSignal): Promise<unknown>
  /** Discards the run's work; must leave every published state as it was. */
  abort(): Promise<void>
}

export type RunSessionFactory = (workflow: DataWorkflow, runId: string) => Promise<RunSession>

/** Activities in an order that respects dependsOn (the model is validated: no cycles). */
export function activityOrder(workflow: DataWorkflow): DataWorkflow['spec']['activities'] {
  const byName = new Map(workflow.spec.activities.map((a) => [a.name, a]))
  const done = new Set<string>()
  const out: DataWorkflow['spec']['activities'] = []
  const visit = (name: string, path: Set<string>) => {
    if (done.has(name) || path.has(name)) return
    const a = byName.get(name)
    if (!a) return
    path.add(name)
    for (const d of a.dependsOn ?? []) visit(d, path)
    done.add(name)
    out.push(a)
  }
  for (const a of workflow.spec.activities) visit(a.name, new Set())
  return out
}

/** A sortable, time-based run id (also the `_run` of rejected rows). */
export function newRunId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`
}

class RunTimeout extends Error {}

/**
 * The runs of this runtime: started on request, one at a time (DuckDB has one writer, and two
 * runs of one product would race to publish), each kept for GET /v1/runs/<id>: the last 200 in
 * memory, and, with a run log, every one of them in the product's storage (run-log.ts).
 */
export class RunRegistry {
  private readonly runs = new Map<string, RunRecord>()
  private readonly lastByState = new Map<string, {run: string; status: RunStatus; finishedAt: string}>()
  private current: {id: string; controller: AbortController; done: Promise<void>} | undefined
  private readonly kept = 200

  constructor(
    private readonly sessions: RunSessionFactory,
    private readonly onFinish: (record: RunRecord, workflow: DataWorkflow) => void = () => {},
    /** Every state a workflow writes, to answer "last run" per port. */
    private readonly statesOf: (workflow: DataWorkflow) => string[] = () => [],
    private readonly log?: RunLog,
  ) {}

  /** Takes back the runs a previous process of this runtime logged (before serving). */
  async restore(): Promise<void> {
    if (!this.log) return
    for (const {record, states} of await this.log.restore(this.kept)) {
      this.runs.set(record.id, record)
      if (record.finishedAt) for (const ref of states) this.lastByState.set(ref, {run: record.id, status: record.status, finishedAt: record.finishedAt})
    }
  }

  /** A run of this runtime: kept in memory, or an older one from the run log. */
  async get(id: string): Promise<RunRecord | undefined> {
    return this.runs.get(id) ?? (await this.log?.find(id))
  }

  lastOf(stateRef: string): {run: string; status: RunStatus; finishedAt: string} | null {
    return this.lastByState.get(stateRef) ?? null
  }

  get busy(): string | undefined {
    return this.current?.id
  }

  /** Starts a run and returns its record at once; the run goes on in the background. */
  start(name: string, workflow: DataWorkflow): RunRecord {
    const id = newRunId()
    const record: RunRecord = {
      id,
      workflow: name,
      status: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      ms: null,
      activities: activityOrder(workflow).map((a) => ({name: a.name, transition: a.transition, status: 'pending', attempts: 0, ms: 0})),
      result: null,
      error: null,
    }
    this.runs.set(id, record)
    this.trim()
    // Logged before the answer's 202 leaves, so a restart knows of the run whenever it comes.
    const logged = this.record(record, workflow)
    const controller = new AbortController()
    const done = logged.then(() => this.execute(record, workflow, controller.signal)).finally(() => {
      if (this.current?.id === id) this.current = undefined
    })
    this.current = {id, controller, done}
    return record
  }

  /** Waits for the run in progress, if any (tests and shutdown). */
  async settle(): Promise<void> {
    await this.current?.done
    await this.log?.flush()
  }

  /** SIGTERM: the run in progress is abandoned (nothing of it is published) before the process exits. */
  async abandon(): Promise<void> {
    const current = this.current
    if (current) {
      current.controller.abort(new Error('the runtime is shutting down'))
      await current.done
    }
    // The last records still being written (the store closes next).
    await this.log?.flush()
  }

  private async execute(record: RunRecord, workflow: DataWorkflow, signal: AbortSignal): Promise<void> {
    const started = performance.now()
    let session: RunSession | undefined
    try {
      session = await this.sessions(workflow, record.id)
      if (session.ingest) await raceAbort(session.ingest(signal), signal)
      for (const a of activityOrder(workflow)) {
        const activity = record.activities.find((x) => x.name === a.name)!
        await this.runActivity(session, a, activity, signal)
        // Logged as it goes: a process that dies mid-run leaves a record of what it had done.
        await this.record(record, workflow)
      }
      record.result = await session.commit(signal)
      record.status = 'succeeded'
    } catch (error) {
      await session?.abort().catch(() => {})
      record.status = signal.aborted ? 'abandoned' : error instanceof RunTimeout ? 'timed-out' : 'failed'
      record.error = (signal.aborted ? (signal.reason as Error)?.message : undefined) ?? (error as Error).message ?? String(error)
      // A run that failed its contract checks still reports what it computed and which rules failed.
      record.result = (error as {result?: unknown}).result ?? null
      for (const a of record.activities) if (a.status === 'pending') a.status = 'skipped'
    }
    record.ms = Math.round(performance.now() - started)
    record.finishedAt = new Date().toISOString()
    for (const ref of this.statesOf(workflow)) this.lastByState.set(ref, {run: record.id, status: record.status, finishedAt: record.finishedAt})
    // Metrics and ETags before the log write, and the runtime free for the next run: a client that
    // sees the run finished sees its effects and may start another at once.
    this.onFinish(record, workflow)
    if (this.current?.id === record.id) this.current = undefined
    await this.record(record, workflow)
  }

  /** Saves the record in the run log; a log that cannot be written costs the record's persistence, never the run. */
  private async record(record: RunRecord, workflow: DataWorkflow): Promise<void> {
    try {
      await this.log?.save(record, this.statesOf(workflow))
    } catch (error) {
      process.stderr.write(`dappmesh serve: run ${record.id}: cannot log the run: ${(error as Error).message}\n`)
    }
  }

  /** One activity: its timeout per attempt, and up to retry.maxAttempts attempts with backoff. */
  private async runActivity(session: RunSession, spec: DataWorkflow['spec']['activities'][number], record: ActivityRecord, signal: AbortSignal): Promise<void> {
    const attempts = spec.retry?.maxAttempts ?? 1
    const backoff = spec.retry?.backoff ? parseDuration(spec.retry.backoff) : 1000
    const timeout = spec.timeout ? parseDuration(spec.timeout) : undefined
    const started = performance.now()
    record.status = 'running'
    for (let attempt = 1; ; attempt++) {
      record.attempts = attempt
      const attemptController = new AbortController()
      const onAbort = () => attemptController.abort(signal.reason)
      signal.addEventListener('abort', onAbort, {once: true})
      const timer = timeout === undefined ? undefined : setTimeout(() => attemptController.abort(new RunTimeout(`activity ${spec.name} timed out after ${spec.timeout}`)), timeout)
      try {
        await raceAbort(session.runTransition(spec.transition, attemptController.signal), attemptController.signal)
        record.status = 'succeeded'
        record.ms = Math.round(performance.now() - started)
        return
      } catch (error) {
        const reason = attemptController.signal.aborted ? attemptController.signal.reason : error
        record.error = (reason as Error).message ?? String(reason)
        record.ms = Math.round(performance.now() - started)
        if (signal.aborted) throw reason
        if (attempt >= attempts) {
          record.status = reason instanceof RunTimeout ? 'timed-out' : 'failed'
          throw reason
        }
        await sleep(backoff * 2 ** (attempt - 1), signal)
      } finally {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      }
    }
  }

  private trim(): void {
    if (this.runs.size <= this.kept) return
    for (const [id, r] of this.runs) {
      if (this.runs.size <= this.kept) break
      if (r.status !== 'running') this.runs.delete(id)
    }
  }
}

/** Settles as soon as the signal aborts, whatever the work does (it is told through the same signal). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, {once: true})
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    }, {once: true})
  })
}
