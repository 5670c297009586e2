import type {ValidationContext} from '../context.js'
import type {Finding} from '../finding.js'
import {flowStateKey} from './ref.js'

/**
 * Kahn's topological sort over `edges`; returns the nodes left on a cycle, in cycle order, or
 * undefined when the graph is acyclic.
 */
export function findCycle(nodes: Iterable<string>, edges: Map<string, string[]>): string[] | undefined {
  const indegree = new Map<string, number>()
  for (const n of nodes) indegree.set(n, 0)
  for (const [from, tos] of edges) {
    if (!indegree.has(from)) indegree.set(from, 0)
    for (const to of tos) indegree.set(to, (indegree.get(to) ?? 0) + 1)
  }
  const queue = [...indegree].filter(([, d]) => d === 0).map(([n]) => n)
  let seen = 0
  while (queue.length > 0) {
    const n = queue.pop()!
    seen++
    for (const to of edges.get(n) ?? []) {
      const d = indegree.get(to)! - 1
      indegree.set(to, d)
      if (d === 0) queue.push(to)
    }
  }
  if (seen === indegree.size) return undefined
  // Every node left has an incoming edge from another node left: walk backwards until one repeats.
  const left = new Set([...indegree].filter(([, d]) => d > 0).map(([n]) => n))
  const next = (n: string) => (edges.get(n) ?? []).find((to) => left.has(to))!
  let n = [...left][0]
  const order: string[] = []
  const index = new Map<string, number>()
  while (!index.has(n)) {
    index.set(n, order.length)
    order.push(n)
    n = next(n)
  }
  return order.slice(index.get(n))
}

/** `cycle`: a DataFlow's transitions, or a DataWorkflow's dependsOn, must not loop. */
export function checkCycles(ctx: ValidationContext): Finding[] {
  const out: Finding[] = []
  for (const r of ctx.all('DataFlow')) {
    const {schema, version, transitions} = r.object.spec
    const key = (s: string) => flowStateKey(schema, version, s)
    const edges = new Map<string, string[]>()
    const firstEdge = new Map<string, number>()
    for (const [i, t] of transitions.entries()) {
      for (const from of t.from) {
        const k = key(from)
        edges.set(k, [...(edges.get(k) ?? []), key(t.to)])
        if (!firstEdge.has(`${k}>${key(t.to)}`)) firstEdge.set(`${k}>${key(t.to)}`, i)
      }
    }
    const cycle = findCycle(edges.keys(), edges)
    if (!cycle) continue
    const short = (s: string) => (s.startsWith(`${schema}@${version}/`) ? s.slice(schema.length + version.length + 2) : s)
    const at = firstEdge.get(`${cycle[0]}>${cycle[1 % cycle.length]}`) ?? 0
    out.push(
      r.source.finding(['spec', 'transitions', at], {
        rule: 'cycle',
        severity: 'error',
        kind: r.kind,
        name: r.name,
        message: `transitions form a cycle: ${[...cycle, cycle[0]].map(short).join(' → ')}; data must flow one way, so remove or redirect one of these transitions`,
      }),
    )
  }
  for (const r of ctx.all('DataWorkflow')) {
    const activities = r.object.spec.activities
    // Edges run from a dependency to the activity that waits for it.
    const edges = new Map<string, string[]>()
    for (const a of activities) for (const dep of a.dependsOn ?? []) edges.set(dep, [...(edges.get(dep) ?? []), a.name])
    const cycle = findCycle(activities.map((a) => a.name), edges)
    if (!cycle) continue
    const at = activities.findIndex((a) => a.name === cycle[1 % cycle.length])
    out.push(
      r.source.finding(['spec', 'activities', at, 'dependsOn'], {
        rule: 'cycle',
        severity: 'error',
        kind: r.kind,
        name: r.name,
        message: `activities depend on each other in a cycle: ${[...cycle, cycle[0]].join(' → ')}; remove one dependsOn entry to break it`,
      }),
    )
  }
  return out
}
