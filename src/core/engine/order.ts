/**
 * Dependency order of transitions: a transition runs after every transition that writes one of
 * its `from` states. Kahn's algorithm, keeping declaration order among ready transitions, so a
 * run's table reads like the flow files. Cycles are refused by `validate` (rule `cycle`) before a
 * run gets here; what is left of one is appended in declaration order rather than dropped.
 */
export function dependencyOrder<T extends {from: readonly string[]; to: string}>(transitions: readonly T[]): T[] {
  const writers = new Map<string, number[]>()
  for (const [i, t] of transitions.entries()) writers.set(t.to, [...(writers.get(t.to) ?? []), i])
  const waiting = transitions.map((t, i) => new Set(t.from.flatMap((s) => (writers.get(s) ?? []).filter((w) => w !== i))))
  const done = new Set<number>()
  const order: T[] = []
  while (done.size < transitions.length) {
    const ready = transitions.findIndex((_, i) => !done.has(i) && [...waiting[i]].every((w) => done.has(w)))
    if (ready < 0) break
    done.add(ready)
    order.push(transitions[ready])
  }
  for (const [i, t] of transitions.entries()) if (!done.has(i)) order.push(t)
  return order
}
