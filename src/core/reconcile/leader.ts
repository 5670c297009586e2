import {hostname} from 'node:os'
import {randomBytes} from 'node:crypto'

import {resourcePath} from '../kube/paths.js'
import type {Lease} from '../kube/objects.js'
import {KubeApiError, type KubeRest, type WriteGate, WriteRefusedError} from '../kube/rest.js'
import type {Log} from './controller.js'
import {sleep} from './informer.js'

export interface LeaderElectionOptions {
  namespace: string
  name: string
  /** default: host name, process id and a random suffix */
  identity?: string
  /** how long a lease holds without renewal (default 15 s) */
  leaseDurationMs?: number
  /** a leader that could not renew for this long steps down (default 10 s) */
  renewDeadlineMs?: number
  /** how often candidates try and the leader renews (default 2 s) */
  retryPeriodMs?: number
  /**
   * Told, on taking the lease and on each renewal, until when this process surely holds it: the
   * moment the renewal was sent plus the renew deadline (earlier than anyone else can see the lease
   * expire). Writes must stop then; see `leaderWriteGate`.
   */
  onHeldUntil?: (until: number) => void
  log: Log
}

/**
 * The write gate of a leader's loops: writes may go until the time the last renewal promised
 * (`holdsUntil()`), and each may take at most the time left, so none lands after the leader may
 * have lost the lease, even when the renewals hang or fail and the loops are still writing.
 */
export function leaderWriteGate(holdsUntil: () => number, now: () => number = Date.now): WriteGate {
  return () => {
    const left = holdsUntil() - now()
    if (left <= 0) throw new WriteRefusedError('this operator is not the leader, or could not renew its lease in time')
    return left
  }
}

function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

export class LostLeadershipError extends Error {}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: a candidate takes the
 * lease when it is free or its holder has not renewed within the lease duration (timed by this
 * process's clock, from when it last saw the record change, so clock skew does not matter);
 * every write is a compare-and-swap on resourceVersion. The leader renews every retry period,
 * steps down when it cannot renew within the renew deadline, and releases the lease on a
 * graceful stop so a successor need not wait for it to expire.
 *
 * Runs `lead` once leadership is acquired, with a signal that aborts on shutdown or lost
 * leadership; rejects with LostLeadershipError in the latter case.
 */
export async function runAsLeader(rest: KubeRest, options: LeaderElectionOptions, signal: AbortSignal, lead: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const identity = options.identity ?? `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`
  const durationMs = options.leaseDurationMs ?? 15_000
  const deadlineMs = options.renewDeadlineMs ?? 10_000
  const retryMs = options.retryPeriodMs ?? 2000
  const path = resourcePath('coordination.k8s.io/v1', 'Lease', options.namespace, options.name)
  let observed: {holder?: string; renewTime?: string; resourceVersion?: string} = {}
  let observedAt = 0
  /** the lease as this process last wrote it, while it leads: the next renewal starts from it */
  let written: Lease | undefined

  await ensureNamespace(rest, options.namespace)

  /**
   * A leader's renewal, as client-go's fast path does it: one PUT of the lease as it last wrote it,
   * instead of a GET and a PUT every retry period (half the requests of an idle operator). When
   * someone else changed the lease since, the PUT fails on its resourceVersion and the full
   * attempt below decides.
   */
  const renewWritten = async (timeoutMs: number): Promise<boolean> => {
    if (!written) return false
    const lease = written
    written = undefined
    try {
      written = await rest.request<Lease>('PUT', path, {body: {...lease, spec: {...lease.spec, renewTime: microTime(new Date())}}, timeoutMs, retries: 0})
      return true
    } catch {
      return false
    }
  }

  /** One attempt, each of its requests given at most `timeoutMs` (a renewal must not outlast the deadline). */
  const tryAcquireOrRenew = async (timeoutMs: number): Promise<boolean> => {
    const started = Date.now()
    if (await renewWritten(timeoutMs)) return true
    timeoutMs -= Date.now() - started
    if (timeoutMs <= 0) return false
    const now = new Date()
    const lease = await rest.request<Lease>('GET', path, {timeoutMs, retries: 0}).catch((error: unknown) => {
      if (error instanceof KubeApiError && error.status === 404) return undefined
      throw error
    })
    const spec = {holderIdentity: identity, leaseDurationSeconds: Math.ceil(durationMs / 1000), renewTime: microTime(now)}
    if (!lease) {
      try {
        written = await rest.request<Lease>('POST', resourcePath('coordination.k8s.io/v1', 'Lease', options.namespace), {
          body: {apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: options.name, namespace: options.namespace}, spec: {...spec, acquireTime: microTime(now), leaseTransitions: 0}},
          timeoutMs,
          retries: 0,
        })
        return true
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 409) return false
        throw error
      }
    }
    const holder = lease.spec?.holderIdentity
    const record = {holder, renewTime: lease.spec?.renewTime, resourceVersion: lease.metadata.resourceVersion}
    if (record.holder !== observed.holder || record.renewTime !== observed.renewTime) {
      observed = record
      observedAt = Date.now()
    }
    const held = holder && holder !== identity && Date.now() < observedAt + (lease.spec?.leaseDurationSeconds ?? durationMs / 1000) * 1000
    if (held) return false
    const transition = holder !== identity
    try {
      written = await rest.request<Lease>('PUT', path, {
        body: {
          ...lease,
          spec: {...lease.spec, ...spec, ...(transition ? {acquireTime: microTime(now), leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1} : {})},
        },
        timeoutMs,
        retries: 0,
      })
      return true
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return false
      throw error
    }
  }

  // Candidate: until acquired.
  let waitingSaid = ''
  let renewedAt = 0
  while (!signal.aborted) {
    const sentAt = Date.now()
    const acquired = await tryAcquireOrRenew(deadlineMs).catch((error) => {
      options.log('warn', `leader election: ${(error as Error).message}`)
      return false
    })
    if (acquired) {
      renewedAt = sentAt
      break
    }
    if (observed.holder && observed.holder !== waitingSaid) {
      options.log('info', `waiting for leadership: the lease ${options.namespace}/${options.name} is held by ${observed.holder}`)
      waitingSaid = observed.holder
    }
    await sleep(retryMs, signal)
  }
  if (signal.aborted) return
  options.onHeldUntil?.(renewedAt + deadlineMs)
  options.log('info', `became the leader (${identity}) on the lease ${options.namespace}/${options.name}`)

  const leading = new AbortController()
  const stop = () => leading.abort()
  signal.addEventListener('abort', stop, {once: true})
  let lost = false
  const renewing = (async () => {
    while (!leading.signal.aborted) {
      await sleep(retryMs, leading.signal)
      if (leading.signal.aborted) break
      const sentAt = Date.now()
      const left = renewedAt + deadlineMs - sentAt
      const renewed = left > 0 && (await tryAcquireOrRenew(left).catch(() => false))
      if (renewed) {
        renewedAt = sentAt
        options.onHeldUntil?.(renewedAt + deadlineMs)
      } else if (Date.now() - renewedAt >= deadlineMs) {
        lost = true
        options.log('error', `lost leadership: could not renew the lease ${options.namespace}/${options.name} within ${deadlineMs} ms; stopped writing`)
        leading.abort()
      }
    }
  })()
  try {
    await lead(leading.signal)
  } finally {
    leading.abort()
    await renewing
    signal.removeEventListener('abort', stop)
    if (!lost) await release(rest, path, identity).catch(() => {})
  }
  if (lost) throw new LostLeadershipError(`lost the leadership of ${options.namespace}/${options.name}`)
}

/** Gives the lease up at once, so a successor takes over without waiting for it to expire. */
async function release(rest: KubeRest, path: string, identity: string): Promise<void> {
  const lease = await rest.find<Lease>(path)
  if (lease?.spec?.holderIdentity !== identity) return
  await rest.request('PUT', path, {body: {...lease, spec: {...lease.spec, holderIdentity: '', leaseDurationSeconds: 1}}})
}

async function ensureNamespace(rest: KubeRest, namespace: string): Promise<void> {
  if (await rest.find(resourcePath('v1', 'Namespace', undefined, namespace))) return
  try {
    await rest.request('POST', resourcePath('v1', 'Namespace'), {body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespace, labels: {'app.kubernetes.io/part-of': 'dappmesh'}}}})
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error
  }
}
