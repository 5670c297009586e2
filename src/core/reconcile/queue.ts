/**
 * A work queue of keys in the manner of client-go's: a key waiting is held once however often it
 * is added; a key is never handed to two workers at once (added while it is being processed, it
 * is processed once more afterwards); a failed key comes back after an exponential backoff of its
 * own; at most `concurrency` keys are processed at a time.
 */
export interface QueueOptions {
  /** at most this many keys processed at once (default 2) */
  concurrency?: number
  /** the first retry's delay (default 200 ms); it doubles on each further failure of that key */
  baseDelayMs?: number
  /** the longest retry delay (default 5 minutes) */
  maxDelayMs?: number
  /** told of each failure, with the delay before the retry */
  onError?: (key: string, error: unknown, retryInMs: number) => void
  /** told of each processed key (failed or not) and how long it took */
  onProcessed?: (key: string, ms: number, failed: boolean) => void
  /** hold keys without processing them until resume() (default false) */
  paused?: boolean
}

/** What a handler may ask for besides success: to see the key again after a while. */
export interface HandlerResult {
  requeueAfterMs?: number
}

export type Handler = (key: string) => Promise<HandlerResult | void>

export class WorkQueue {
  private readonly pending: string[] = []
  /** keys waiting in `pending` */
  private readonly waiting = new Set<string>()
  private readonly processing = new Set<string>()
  /** keys added while being processed: they go back into `pending` when done */
  private readonly dirty = new Set<string>()
  private readonly failures = new Map<string, number>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  /** when each timer in `timers` fires (ms since the epoch) */
  private readonly dueAt = new Map<string, number>()
  private readonly concurrency: number
  private readonly baseDelayMs: number
  private readonly maxDelayMs: number
  private stopped = false
  private paused: boolean
  /** when a key was last processed (or the queue last had nothing to do): for /healthz */
  lastProgressAt = Date.now()
  private idleWaiters: Array<() => void> = []

  constructor(private readonly handler: Handler, private readonly options: QueueOptions = {}) {
    this.concurrency = Math.max(1, options.concurrency ?? 2)
    this.baseDelayMs = options.baseDelayMs ?? 200
    this.maxDelayMs = options.maxDelayMs ?? 300_000
    this.paused = options.paused ?? false
  }

  /** Starts processing the keys held while paused. */
  resume(): void {
    this.paused = false
    this.pump()
  }

  /** Keys waiting to be processed (not those being processed or waiting out a backoff). */
  get depth(): number {
    return this.pending.length
  }

  /** Keys being processed right now. */
  get active(): number {
    return this.processing.size
  }

  /** Keys waiting out a retry or requeue delay. */
  get delayed(): number {
    return this.timers.size
  }

  /** Whether keys wait or are being processed. */
  get busy(): boolean {
    return this.pending.length > 0 || this.processing.size > 0
  }

  add(key: string): void {
    if (this.stopped) return
    // Work arriving at an idle queue: the time without progress counts from now.
    if (!this.busy) this.lastProgressAt = Date.now()
    const timer = this.timers.get(key)
    if (timer) {
      // An event is news: handle it now rather than at the end of the backoff.
      clearTimeout(timer)
      this.timers.delete(key)
      this.dueAt.delete(key)
    }
    if (this.processing.has(key)) {
      this.dirty.add(key)
      return
    }
    if (this.waiting.has(key)) return
    this.waiting.add(key)
    this.pending.push(key)
    this.pump()
  }

  /** Adds the key after `ms`, unless it is added sooner. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return
    const existing = this.timers.get(key)
    if (existing) clearTimeout(existing)
    const timer = setTimeout(() => {
      this.timers.delete(key)
      this.dueAt.delete(key)
      this.add(key)
      this.settle()
    }, ms)
    timer.unref?.()
    this.timers.set(key, timer)
    this.dueAt.set(key, Date.now() + ms)
  }

  /**
   * Adds the key at most `ms` from now, and then once for every add in between: a burst of events
   * (a hundred products arriving) becomes one reconcile and one write instead of a hundred.
   */
  addCoalesced(key: string, ms: number): void {
    if (this.stopped) return
    if (this.waiting.has(key)) return
    const due = this.dueAt.get(key)
    if (due !== undefined && due <= Date.now() + ms) return
    this.addAfter(key, ms)
  }

  /** The delay before the next retry of a key that failed `failures` times in a row. */
  backoff(failures: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, failures - 1))
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0
  }

  /** Stops taking keys and cancels delayed ones; resolves when the keys being processed are done. */
  async shutdown(): Promise<void> {
    this.stopped = true
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    this.dueAt.clear()
    this.pending.length = 0
    this.waiting.clear()
    this.dirty.clear()
    await this.idle()
  }

  /** Resolves when nothing is pending or being processed (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.paused || (this.pending.length === 0 && this.processing.size === 0)) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private pump(): void {
    while (!this.stopped && !this.paused && this.processing.size < this.concurrency && this.pending.length > 0) {
      const key = this.pending.shift()!
      this.waiting.delete(key)
      this.processing.add(key)
      void this.process(key)
    }
  }

  private async process(key: string): Promise<void> {
    const started = Date.now()
    let failed = false
    try {
      const result = await this.handler(key)
      this.failures.delete(key)
      if (result?.requeueAfterMs !== undefined && !this.stopped) this.addAfter(key, result.requeueAfterMs)
    } catch (error) {
      failed = true
      const count = (this.failures.get(key) ?? 0) + 1
      this.failures.set(key, count)
      const delay = this.backoff(count)
      this.options.onError?.(key, error, delay)
      if (!this.stopped && !this.dirty.has(key)) this.addAfter(key, delay)
    } finally {
      this.processing.delete(key)
      this.lastProgressAt = Date.now()
      this.options.onProcessed?.(key, Date.now() - started, failed)
      if (this.dirty.delete(key)) this.add(key)
      this.pump()
      this.settle()
    }
  }

  private settle(): void {
    if (this.pending.length > 0 || this.processing.size > 0) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }
}
