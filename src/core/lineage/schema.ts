import type {FromSchema} from 'json-schema-to-ts'

export const NODE_TYPES = ['source', 'input-port', 'state', 'transition', 'output-port'] as const

/**
 * - `source`: where an input port reads (an external source, or another product's output port)
 * - `input`: an input port feeds a state (a DataFlow input, or the port's own schema state when no flow names it)
 * - `from` / `to`: a state is read by / written by a transition
 * - `output`: a state is served by an output port (a DataFlow output, or the port's own schema state)
 * - `port`: this product's own output port feeds one of its input ports
 */
export const EDGE_TYPES = ['source', 'input', 'from', 'to', 'output', 'port'] as const

const text = {type: 'string'} as const
const texts = {type: 'array', items: text} as const

/**
 * The shape of `dappmesh lineage --json` (and `-o json`): the documented contract for tools that
 * read it. The TypeScript types below are derived from it, and the tests check output against it.
 */
export const lineageGraphSchema = {
  $id: 'https://dappmesh.io/schemas/lineage.json',
  title: 'dappmesh lineage',
  type: 'object',
  additionalProperties: false,
  required: ['nodes', 'edges'],
  properties: {
    product: {...text, description: 'the DataProduct\'s name, when the project has one'},
    nodes: {
      description: 'by type (source, input-port, state, transition, output-port), then id',
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'type', 'label'],
        properties: {
          id: {...text, description: 'unique and stable: `<type>:<what it names>`, e.g. `state:orders@1.1.0/raw`'},
          type: {type: 'string', enum: NODE_TYPES},
          label: {...text, description: 'one line for a human, e.g. `clean (transformation)` or `orders-api (api)`'},
          notes: {...texts, description: 'extra lines diagrams show under the label: contract, storage, schedule, triggers'},
          sourceType: {type: 'string', enum: ['product', 'kafka', 'http', 'postgres', 's3'], description: 'source: its type'},
          product: {...text, description: 'source: the other product'},
          port: {...text, description: 'source: the other product\'s output port'},
          uri: {...text, description: 'source: where an external source is'},
          name: {...text, description: 'input-port, output-port, transition: its name'},
          stateRef: {...text, description: 'input-port, output-port: the state ref the port declares in spec.schema'},
          schema: {...text, description: 'state: its schema; transition: its flow\'s schema'},
          version: {...text, description: 'state: its schema version; transition: its flow\'s version'},
          state: {...text, description: 'state: its name within the schema version'},
          flow: {...text, description: 'transition: its DataFlow'},
          transitionKind: {type: 'string', enum: ['ingestion', 'transformation', 'enrichment', 'merge', 'aggregation', 'serving'], description: 'transition: its kind'},
          schedule: {...texts, description: 'transition: cron schedules of the DataWorkflows that run it'},
          workflows: {...texts, description: 'transition: the DataWorkflows that run it'},
          triggers: {...texts, description: 'transition: input ports whose data starts those workflows'},
          portType: {type: 'string', enum: ['api', 'table', 'topic', 'files'], description: 'output-port: its type'},
          contract: {...text, description: 'output-port: its DataContract; source: the contract it reads under'},
          storage: {...text, description: 'output-port: its DataStorage'},
        },
      },
    },
    edges: {
      description: 'in the order of their from node, then their to node',
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to', 'type'],
        properties: {from: text, to: text, type: {type: 'string', enum: EDGE_TYPES}},
      },
    },
  },
} as const

export type LineageGraph = FromSchema<typeof lineageGraphSchema>
export type LineageNode = LineageGraph['nodes'][number]
export type LineageEdge = LineageGraph['edges'][number]
export type NodeType = LineageNode['type']
export type EdgeType = LineageEdge['type']
