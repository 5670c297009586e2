import type {Condition} from '../kube/types.js'

export type {Condition}

/**
 * The new conditions, each keeping its lastTransitionTime when its status did not change, so a
 * reconcile that finds nothing new computes exactly the status that is already stored.
 */
export function mergeConditions(previous: Condition[] | undefined, next: Condition[], now = new Date()): Condition[] {
  const old = new Map((previous ?? []).map((c) => [c.type, c]))
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z')
  return next.map((c) => {
    const before = old.get(c.type)
    return {...c, lastTransitionTime: before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : stamp}
  })
}
