import type {ComponentStatus, DappmeshStatus, KubeObject, WorkloadStatus} from '../../kube/types.js'
import {type Condition, mergeConditions} from '../conditions.js'

export type Component = ComponentStatus

/** Readiness of one child from what the cluster says about it (workloads: their controllers' status). */
export function componentOf(desired: {kind: string; metadata: {name: string}}, cached: KubeObject | undefined): Component {
  const {kind} = desired
  const {name} = desired.metadata
  if (!cached) return {kind, name, ready: false, message: 'not created yet'}
  if (kind === 'StatefulSet' || kind === 'Deployment') {
    // The live object of a workload child is that workload.
    const live = cached as KubeObject & {spec?: {replicas?: number}; status?: WorkloadStatus}
    const want = live.spec?.replicas ?? 1
    const ready = live.status?.readyReplicas ?? 0
    const current = (live.status?.observedGeneration ?? 0) >= (live.metadata?.generation ?? 0)
    const updated = (live.status?.updatedReplicas ?? 0) >= want
    const ok = current && ready >= want && updated
    // The qualifier only where the count does not say why it is not ready: the message (which the
    // reconcile compares to wake) then stays the same while a new workload's controller first
    // observes it, and changes only when a replica becomes ready.
    return {kind, name, ready: ok, message: `${ready}/${want} replicas ready${current || ready < want ? '' : ' (rollout not yet observed)'}`}
  }
  return {kind, name, ready: true, message: 'exists'}
}

export interface StatusInput {
  generation: number
  components: Component[]
  missing: string[]
  /** what failed to apply this time, if anything */
  failures: string[]
  /** children whose names belong to objects of someone else (never adopted) */
  taken?: string[]
}

export function productStatus(previous: DappmeshStatus | undefined, input: StatusInput, now = new Date()): {observedGeneration: number; conditions: Condition[]; components: Component[]} {
  const g = input.generation
  const taken = input.taken ?? []
  // A name taken by someone else blocks the product like a failed apply, and says so by its own reason.
  input = {...input, failures: [...taken, ...input.failures]}
  const failedReason = taken.length > 0 ? 'NameTaken' : 'ApplyFailed'
  const notReady = input.components.filter((c) => !c.ready)
  const resolved = input.missing.length === 0
  const ready = resolved && notReady.length === 0 && input.failures.length === 0
  const waiting = notReady.map((c) => `${c.kind}/${c.name}: ${c.message}`).join('; ')
  const conditions: Condition[] = [
    {
      type: 'Ready',
      status: ready ? 'True' : 'False',
      reason: ready ? 'ComponentsReady' : !resolved ? 'ReferencesUnresolved' : input.failures.length > 0 ? failedReason : 'ComponentsNotReady',
      message: ready ? `all ${input.components.length} components are ready` : !resolved ? `missing: ${input.missing.join(', ')}` : input.failures.length > 0 ? input.failures.join('; ') : waiting,
      observedGeneration: g,
    },
    {
      type: 'Reconciling',
      status: !ready && input.failures.length === 0 && resolved ? 'True' : 'False',
      reason: ready ? 'Reconciled' : resolved && input.failures.length === 0 ? 'Progressing' : 'Blocked',
      message: ready ? '' : waiting,
      observedGeneration: g,
    },
    {
      type: 'Degraded',
      status: input.failures.length > 0 ? 'True' : 'False',
      reason: input.failures.length > 0 ? failedReason : 'AsExpected',
      message: input.failures.join('; '),
      observedGeneration: g,
    },
    {
      type: 'ReferencesResolved',
      status: resolved ? 'True' : 'False',
      reason: resolved ? 'Resolved' : 'Missing',
      message: resolved ? '' : `missing: ${input.missing.join(', ')}`,
      observedGeneration: g,
    },
  ]
  return {observedGeneration: g, conditions: mergeConditions(previous?.conditions, conditions, now), components: input.components}
}
