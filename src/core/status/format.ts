import type {ChalkInstance} from 'chalk'

import type {ComponentView, ProductStatus, Readiness, RuntimeView} from './result-schema.js'

function label(ready: Readiness, colour: ChalkInstance): string {
  if (ready === true) return colour.green('Ready')
  if (ready === false) return colour.red('NotReady')
  return colour.yellow('Unknown')
}

function ago(time: string | undefined, now: number): string {
  const at = time ? Date.parse(time) : Number.NaN
  if (Number.isNaN(at)) return ''
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86_400)}d ago`
}

/** Lines of a subtree: `├─`/`└─` for children, `│ ` to continue a parent's branch. */
function branch(items: string[][], prefix: string): string[] {
  const out: string[] = []
  items.forEach((lines, i) => {
    const last = i === items.length - 1
    out.push(`${prefix}${last ? '└─ ' : '├─ '}${lines[0]}`)
    for (const line of lines.slice(1)) out.push(`${prefix}${last ? '   ' : '│  '}${line}`)
  })
  return out
}

function componentLine(c: ComponentView, colour: ChalkInstance): string {
  return `${c.kind}/${c.name}  ${label(c.ready, colour)}${c.message ? colour.dim(`  ${c.message}`) : ''}`
}

/** The runtime's subtree: its readiness, the last run of each workflow and each contract's last result. */
function runtimeLines(r: RuntimeView, colour: ChalkInstance, now: number): string[] {
  const runs = r.workflows.map((w) => {
    const result = w.result === 'succeeded' ? colour.green(w.result) : w.result === 'failed' ? colour.red(w.result) : colour.yellow(w.result)
    const when = w.finishedAt ?? w.startedAt
    return [`workflow ${w.workflow}: ${result}${w.rows === undefined ? '' : `, ${w.rows} rows`}${w.message ? `: ${w.message}` : ''}${when ? colour.dim(`  ${ago(when, now)}`) : ''}`]
  })
  const contracts = r.contracts.map((c) => {
    const result = c.result === 'passed' ? colour.green(c.result) : colour.red(c.result)
    const id = c.contract ? ` (${c.contract}${c.version ? ` ${c.version}` : ''})` : ''
    return [`contract of ${c.port}${id}: ${result}${c.failed ? `: ${c.failed.join('; ')}` : ''}${c.checkedAt ? colour.dim(`  ${ago(c.checkedAt, now)}`) : ''}`]
  })
  const none = runs.length + contracts.length === 0 ? [[colour.dim('no run recorded yet')]] : []
  return [`runtime StatefulSet/${r.name}  ${label(r.ready, colour)}${r.message ? colour.dim(`  ${r.message}`) : ''}`, ...branch([...runs, ...contracts, ...none], '')]
}

/** The product's own subtree: conditions, components, its runtime, recent warning events. */
function productLines(s: ProductStatus, colour: ChalkInstance, now: number, detail: boolean): string[] {
  const p = s.product
  const head = `DataProduct ${colour.bold(p.name)}${p.version ? ` ${p.version}` : ''}  ${label(p.ready, colour)}${p.reason && p.ready !== true ? colour.dim(`  ${p.reason}`) : ''}`
  const readyCount = p.components.filter((c) => c.ready === true).length
  if (!detail) return [`${head}  ${colour.dim(`components ${readyCount}/${p.components.length} ready`)}`]
  const sections: string[][] = []
  sections.push([
    p.conditions.length === 0 ? 'conditions: none' : 'conditions',
    ...(p.conditions.length === 0
      ? []
      : branch(p.conditions.map((c) => [`${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}${c.lastTransitionTime ? colour.dim(`  ${ago(c.lastTransitionTime, now)}`) : ''}`]), '')),
  ])
  sections.push([
    `components ${readyCount}/${p.components.length} ready${p.componentsFrom === 'resources' ? colour.dim(' (from the product\'s resources; the operator has not reported any)') : ''}`,
    ...(p.components.length === 0 ? [] : branch(p.components.map((c) => [componentLine(c, colour)]), '')),
  ])
  if (p.runtime) sections.push(runtimeLines(p.runtime, colour, now))
  sections.push([
    p.events.length === 0 ? 'recent warning events: none' : 'recent warning events',
    ...(p.events.length === 0
      ? []
      : branch(p.events.map((e) => [`${colour.yellow(e.reason)} ${e.object}: ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}${e.lastSeen ? colour.dim(`  ${ago(e.lastSeen, now)}`) : ''}`]), '')),
  ])
  return [head, ...branch(sections, '')]
}

/**
 * mesh → domain → product → components, as a tree. With several products (--all) products are
 * grouped under their mesh and domain, one line each.
 */
export function formatStatus(statuses: ProductStatus[], colour: ChalkInstance, options: {detail: boolean; now?: number}): string {
  const now = options.now ?? Date.now()
  if (statuses.length === 0) return 'no data products installed'
  const meshes = new Map<string, ProductStatus[]>()
  for (const s of statuses) meshes.set(s.mesh.name, [...(meshes.get(s.mesh.name) ?? []), s])
  const out: string[] = []
  for (const [, inMesh] of [...meshes].sort(([a], [b]) => a.localeCompare(b))) {
    const mesh = inMesh[0].mesh
    out.push(`DataMesh ${colour.bold(mesh.name || '?')}  ${mesh.found ? label(mesh.ready, colour) : colour.red('not found')}`)
    const domains = new Map<string, ProductStatus[]>()
    for (const s of inMesh) domains.set(`${s.domain.name}\u0000${s.domain.namespace}`, [...(domains.get(`${s.domain.name}\u0000${s.domain.namespace}`) ?? []), s])
    const domainTrees = [...domains.values()]
      .sort((a, b) => a[0].domain.name.localeCompare(b[0].domain.name))
      .map((inDomain) => {
        const d = inDomain[0].domain
        const head = `DataDomain ${colour.bold(d.name || '?')} (namespace ${d.namespace})  ${d.found ? label(d.ready, colour) : colour.red('not found')}`
        const products = inDomain.sort((a, b) => a.product.name.localeCompare(b.product.name)).map((s) => productLines(s, colour, now, options.detail))
        return [head, ...branch(products, '')]
      })
    out.push(...branch(domainTrees, ''))
  }
  return out.join('\n')
}
