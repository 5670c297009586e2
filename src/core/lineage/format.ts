import type {LineageGraph, NodeType} from './graph.js'

export const LINEAGE_FORMATS = ['mermaid', 'dot', 'json'] as const
export type LineageFormat = (typeof LINEAGE_FORMATS)[number]

export function formatLineage(graph: LineageGraph, format: LineageFormat): string {
  if (format === 'dot') return formatDot(graph)
  if (format === 'json') return JSON.stringify(graph, null, 2)
  return formatMermaid(graph)
}

/** Short id prefixes for diagram languages; graph ids stay the readable `type:name` form. */
const PREFIX: Record<NodeType, string> = {source: 'src', 'input-port': 'in', state: 'st', transition: 'tr', 'output-port': 'out'}

/**
 * Mermaid ids may hold only letters, digits and `_` (and some words, such as `end`, are taken):
 * every id gets its type's prefix, the rest becomes `_`, and a clash gets a number.
 */
export function diagramIds(graph: LineageGraph): Map<string, string> {
  const ids = new Map<string, string>()
  const taken = new Set<string>()
  for (const node of graph.nodes) {
    // A source id also names its type (`source:kafka:kafka://…`): once is enough.
    const name = node.id.split(':').slice(node.type === 'source' ? 2 : 1).join(':')
    const base = `${PREFIX[node.type]}_${name.replaceAll(/[^A-Za-z0-9]+/g, '_').replaceAll(/^_|_$/g, '')}`
    let id = base
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`
    taken.add(id)
    ids.set(node.id, id)
  }
  return ids
}

/** Mermaid shapes by node type: `open` + quoted label + `close`. */
const MERMAID_SHAPE: Record<NodeType, [string, string]> = {
  source: ['[/', '/]'],
  'input-port': ['([', '])'],
  state: ['[', ']'],
  transition: ['{{', '}}'],
  'output-port': ['([', '])'],
}

const MERMAID_CLASS: Record<NodeType, string> = {source: 'source', 'input-port': 'inputPort', state: 'state', transition: 'transition', 'output-port': 'outputPort'}
const MERMAID_STYLE: Record<NodeType, string> = {
  source: 'fill:#f5f5f5,stroke:#757575',
  'input-port': 'fill:#e3f2fd,stroke:#1e88e5',
  state: 'fill:#ffffff,stroke:#424242',
  transition: 'fill:#fff8e1,stroke:#f9a825',
  'output-port': 'fill:#e8f5e9,stroke:#43a047',
}

/** A `flowchart LR`: paste it into Markdown on GitHub or GitLab, or `mmdc -i lineage.mmd`. */
export function formatMermaid(graph: LineageGraph): string {
  const ids = diagramIds(graph)
  const lines = ['flowchart LR']
  for (const node of graph.nodes) {
    const [open, close] = MERMAID_SHAPE[node.type]
    const text = [node.label, ...(node.notes ?? [])].map(mermaidText).join('<br/>')
    lines.push(`  ${ids.get(node.id)}${open}"${text}"${close}`)
  }
  for (const edge of graph.edges) lines.push(`  ${ids.get(edge.from)} --> ${ids.get(edge.to)}`)
  const byType = new Map<NodeType, string[]>()
  for (const node of graph.nodes) byType.set(node.type, [...(byType.get(node.type) ?? []), ids.get(node.id)!])
  for (const [type, members] of byType) {
    lines.push(`  classDef ${MERMAID_CLASS[type]} ${MERMAID_STYLE[type]}`, `  class ${members.join(',')} ${MERMAID_CLASS[type]}`)
  }
  return lines.join('\n')
}

/** Inside a quoted Mermaid label, `"`, `<`, `>` and `#` must be entity codes. */
function mermaidText(text: string): string {
  return text.replaceAll('#', '#35;').replaceAll('"', '#quot;').replaceAll('<', '#lt;').replaceAll('>', '#gt;')
}

const DOT_SHAPE: Record<NodeType, string> = {
  source: 'shape=cylinder',
  'input-port': 'shape=cds, style=filled, fillcolor="#e3f2fd"',
  state: 'shape=box, style=rounded',
  transition: 'shape=hexagon, style=filled, fillcolor="#fff8e1"',
  'output-port': 'shape=cds, style=filled, fillcolor="#e8f5e9"',
}

/** A Graphviz digraph: `dappmesh lineage -o dot | dot -Tsvg > lineage.svg`. */
export function formatDot(graph: LineageGraph): string {
  const lines = [`digraph ${dotString(graph.product ? `lineage of ${graph.product}` : 'lineage')} {`, '  rankdir=LR;']
  for (const node of graph.nodes) {
    const label = [node.label, ...(node.notes ?? [])].map((l) => dotString(l).slice(1, -1)).join('\\n')
    lines.push(`  ${dotString(node.id)} [label="${label}", ${DOT_SHAPE[node.type]}];`)
  }
  for (const edge of graph.edges) lines.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)};`)
  lines.push('}')
  return lines.join('\n')
}

/** A DOT quoted string: backslashes and quotes escaped, line breaks as `\n`. */
function dotString(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll(/\r?\n/g, '\\n')}"`
}
