/**
 * A token bucket, as client-go's client-side rate limiter: up to `burst` requests at once, then
 * `qps` a second on average. An operator that reconciles a thousand products after a restart must
 * not flood the API server it shares with everyone else; waiting requests go in arrival order.
 */
export class TokenBucket {
  private tokens: number
  private last: number
  private readonly waiters: Array<() => void> = []
  private timer?: NodeJS.Timeout

  constructor(readonly qps: number, readonly burst: number, private readonly now: () => number = () => performance.now()) {
    if (!(qps > 0) || !(burst >= 1)) throw new RangeError(`a rate limit needs qps > 0 and burst >= 1 (got qps ${qps}, burst ${burst})`)
    this.tokens = burst
    this.last = now()
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps)
    this.last = now
  }

  /**
   * Takes a token when one is there and nobody waits for one: true when the request may go now.
   * The common case, without a promise to await.
   */
  tryTake(): boolean {
    this.refill()
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1
      return true
    }
    return false
  }

  /** Resolves when the request may go. */
  take(): Promise<void> {
    if (this.tryTake()) return Promise.resolve()
    return new Promise((resolve) => {
      this.waiters.push(resolve)
      this.schedule()
    })
  }

  /** Requests waiting for a token. */
  get waiting(): number {
    return this.waiters.length
  }

  private schedule(): void {
    if (this.timer || this.waiters.length === 0) return
    const ms = Math.max(0, ((1 - this.tokens) / this.qps) * 1000)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.refill()
      while (this.waiters.length > 0 && this.tokens >= 1) {
        this.tokens -= 1
        this.waiters.shift()!()
      }
      this.schedule()
    }, Math.ceil(ms))
  }
}

/**
 * The client's limits: $DAPPMESH_KUBE_QPS and $DAPPMESH_KUBE_BURST override the defaults, 50 and
 * 100. controller-runtime's 20 and 30 would hold a burst of a hundred products (about 30 writes
 * each) for minutes; 50 a second still bounds what one operator asks of a shared API server.
 */
export function rateLimitFromEnv(env: NodeJS.ProcessEnv = process.env): {qps: number; burst: number} {
  const qps = Number(env.DAPPMESH_KUBE_QPS)
  const burst = Number(env.DAPPMESH_KUBE_BURST)
  return {qps: Number.isFinite(qps) && qps > 0 ? qps : 50, burst: Number.isFinite(burst) && burst >= 1 ? Math.floor(burst) : 100}
}
