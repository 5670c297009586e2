import {type ValidationContext, parseStateRef} from '../validate/context.js'
import {flowStateKey} from '../validate/rules/ref.js'
import {type EdgeType, type LineageEdge, type LineageGraph, type LineageNode, NODE_TYPES} from './schema.js'

export type {EdgeType, LineageEdge, LineageGraph, LineageNode, NodeType} from './schema.js'

/**
 * The flow graph of a project: sources → input ports → states → transitions → states → output
 * ports, across every DataFlow. States are keyed by their full ref (`schema@version/state`), so a
 * transition that writes a state of another schema joins that schema's flow.
 *
 * Reads only resources that passed the schema rule (`context.all`), so it cannot trip over a broken
 * document; the `lineage` command refuses invalid projects before it gets here anyway.
 */
export function buildLineage(context: ValidationContext): LineageGraph {
  const nodes = new Map<string, LineageNode>()
  const edges = new Map<string, LineageEdge>()
  const add = (node: LineageNode): string => {
    const known = nodes.get(node.id)
    if (known) Object.assign(known, {...node, ...known})
    else nodes.set(node.id, node)
    return node.id
  }
  const link = (from: string, to: string, type: EdgeType) => {
    const key = `${from}\u0000${to}`
    if (!edges.has(key)) edges.set(key, {from, to, type})
  }
  const stateNode = (key: string): string => {
    const ref = parseStateRef(key)
    return add({id: `state:${key}`, type: 'state', label: key, ...(ref && {schema: ref.schema, version: ref.version, state: ref.state})})
  }

  const productName: string | undefined = context.all('DataProduct')[0]?.name

  // Ports first, so that flows referring to them find their details.
  const inputs = new Map<string, string>()
  for (const r of context.all('InputPort')) {
    const id = add({id: `input:${r.name}`, type: 'input-port', label: r.name, name: r.name, stateRef: r.object.spec.schema})
    inputs.set(r.name, id)
    const source = r.object.spec.source
    if (source.type === 'product' && source.product === productName && source.port && context.has('OutputPort', source.port)) {
      // Reading one's own output port: draw the loop inside the product, not a foreign source.
      link(`output:${source.port}`, id, 'port')
      continue
    }
    const what = source.type === 'product' ? `${source.product}/${source.port}` : (source.uri ?? '')
    const notes = source.contract ? [`contract: ${source.contract}`] : undefined
    const sourceId = add({
      id: `source:${source.type}:${what}`,
      type: 'source',
      // A uri with a scheme says what it is; a bare `host:port/topic` needs the type in front.
      label: source.type === 'product' || /^[a-z][a-z0-9+.-]*:\/\//i.test(what) ? what : `${source.type}: ${what}`,
      ...(notes && {notes}),
      sourceType: source.type,
      ...(source.type === 'product' ? {product: source.product, port: source.port} : {uri: source.uri}),
      ...(source.contract && {contract: source.contract}),
    })
    link(sourceId, id, 'source')
  }
  const outputs = new Map<string, string>()
  for (const r of context.all('OutputPort')) {
    const spec = r.object.spec
    const notes = [spec.contract && `contract: ${spec.contract}`, spec.storage && `storage: ${spec.storage}`].filter((n): n is string => Boolean(n))
    const id = add({
      id: `output:${r.name}`,
      type: 'output-port',
      label: `${r.name} (${spec.type})`,
      ...(notes.length > 0 && {notes}),
      name: r.name,
      stateRef: spec.schema,
      portType: spec.type,
      ...(spec.contract && {contract: spec.contract}),
      ...(spec.storage && {storage: spec.storage}),
    })
    outputs.set(r.name, id)
  }

  const portsInFlows = new Set<string>()
  for (const r of context.all('DataFlow')) {
    const {schema, version, inputs: flowInputs, transitions, outputs: flowOutputs} = r.object.spec
    const state = (s: string) => stateNode(flowStateKey(schema, version, s))
    for (const input of flowInputs ?? []) {
      const port = inputs.get(input.port) ?? add({id: `input:${input.port}`, type: 'input-port', label: input.port, name: input.port})
      portsInFlows.add(port)
      link(port, state(input.state), 'input')
    }
    for (const t of transitions) {
      const id = add({
        id: `transition:${r.name}/${t.name}`,
        type: 'transition',
        label: `${t.name} (${t.kind})`,
        name: t.name,
        flow: r.name,
        schema,
        version,
        transitionKind: t.kind,
      })
      for (const from of t.from) link(state(from), id, 'from')
      link(id, state(t.to), 'to')
    }
    for (const output of flowOutputs ?? []) {
      const port = outputs.get(output.port) ?? add({id: `output:${output.port}`, type: 'output-port', label: output.port, name: output.port})
      portsInFlows.add(port)
      link(state(output.state), port, 'output')
    }
  }
  // A port no flow names still shows where its data sits: at the state it declares.
  for (const [, id] of inputs) {
    const declared = nodes.get(id)!.stateRef
    if (!portsInFlows.has(id) && declared) link(id, stateNode(declared), 'input')
  }
  for (const [, id] of outputs) {
    const declared = nodes.get(id)!.stateRef
    if (!portsInFlows.has(id) && declared) link(stateNode(declared), id, 'output')
  }

  annotateWorkflows(context, nodes)

  const rank = (n: LineageNode) => NODE_TYPES.indexOf(n.type)
  const sorted = [...nodes.values()].sort((a, b) => rank(a) - rank(b) || compare(a.id, b.id))
  const order = new Map(sorted.map((n, i) => [n.id, i]))
  // An edge may name a node that only a dangling reference created (an own output port used as a
  // source); keep those out rather than draw an edge to nowhere.
  const kept = [...edges.values()].filter((e) => order.has(e.from) && order.has(e.to))
  kept.sort((a, b) => order.get(a.from)! - order.get(b.from)! || order.get(a.to)! - order.get(b.to)!)
  return {...(productName && {product: productName}), nodes: sorted, edges: kept}
}

/** When each transition runs, as its DataWorkflows say: cron schedule, triggering ports. */
function annotateWorkflows(context: ValidationContext, nodes: Map<string, LineageNode>): void {
  for (const w of context.all('DataWorkflow')) {
    const {flow, schedule, triggers, activities} = w.object.spec
    for (const a of activities) {
      const node = nodes.get(`transition:${flow}/${a.transition}`)
      if (!node) continue
      node.workflows = unique([...(node.workflows ?? []), w.name])
      if (schedule) node.schedule = unique([...(node.schedule ?? []), schedule])
      const ports = (triggers ?? []).map((t) => t.port)
      if (ports.length > 0) node.triggers = unique([...(node.triggers ?? []), ...ports])
    }
  }
  for (const node of nodes.values()) {
    if (node.type !== 'transition') continue
    const notes = [...(node.schedule ?? []).map((s) => `schedule: ${s}`), ...(node.triggers?.length ? [`on: ${node.triggers.join(', ')}`] : [])]
    if (notes.length > 0) node.notes = notes
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)]
}

/** Code-point order, so the result does not depend on the machine's locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
