import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {UserError} from '../../src/core/errors.js'
import {diagramIds, formatDot, formatLineage, formatMermaid} from '../../src/core/lineage/format.js'
import {type LineageGraph, buildLineage} from '../../src/core/lineage/graph.js'
import {lineageOfDirectory} from '../../src/core/lineage/lineage.js'
import {lineageGraphSchema} from '../../src/core/lineage/schema.js'
import {listYamlFiles} from '../../src/core/project/files.js'
import {fromParsedFiles, loadProject} from '../../src/core/project/load.js'
import {parseYamlFile} from '../../src/core/project/source.js'
import {compile} from '../../src/core/validate/ajv.js'
import {validateProject} from '../../src/core/validate/validate.js'
import {ROOT, STACK_TRACE, cli, fixture} from '../helpers/cli.js'

const ORDERS = path.join(ROOT, 'examples/orders')
const CROSS = fixture('lineage-cross-schema')
const TINY = fixture('lineage-tiny')

const edgeList = (g: LineageGraph) => g.edges.map((e) => `${e.from} -> ${e.to}`)
const node = (g: LineageGraph, id: string) => {
  const n = g.nodes.find((x) => x.id === id)
  assert.ok(n, `no node ${id}; nodes are ${g.nodes.map((x) => x.id).join(', ')}`)
  return n
}

/** Whether `to` can be reached from `from` along the edges. */
function reaches(g: LineageGraph, from: string, to: string): boolean {
  const seen = new Set([from])
  const queue = [from]
  while (queue.length > 0) {
    const n = queue.shift()!
    if (n === to) return true
    for (const e of g.edges) {
      if (e.from !== n || seen.has(e.to)) continue
      seen.add(e.to)
      queue.push(e.to)
    }
  }
  return false
}

describe('lineage', () => {
  describe('graph', () => {
    it('draws examples/orders from its kafka source through every state and transition to both output ports', async () => {
      const g = await lineageOfDirectory(ORDERS)
      assert.equal(g.product, 'orders')
      assert.deepEqual(
        g.nodes.map((n) => n.id),
        [
          'source:kafka:kafka://kafka.sales.svc:9092/orders',
          'input:orders-events',
          'state:orders@1.1.0/clean',
          'state:orders@1.1.0/daily',
          'state:orders@1.1.0/raw',
          'transition:orders/clean',
          'transition:orders/daily',
          'transition:orders/ingest',
          'output:orders-api',
          'output:orders-daily',
        ],
      )
      assert.deepEqual(edgeList(g), [
        'source:kafka:kafka://kafka.sales.svc:9092/orders -> input:orders-events',
        'input:orders-events -> state:orders@1.1.0/raw',
        'state:orders@1.1.0/clean -> transition:orders/daily',
        'state:orders@1.1.0/clean -> output:orders-api',
        'state:orders@1.1.0/daily -> output:orders-daily',
        'state:orders@1.1.0/raw -> transition:orders/clean',
        'transition:orders/clean -> state:orders@1.1.0/clean',
        'transition:orders/daily -> state:orders@1.1.0/daily',
        'transition:orders/ingest -> state:orders@1.1.0/raw',
      ])
      assert.deepEqual(node(g, 'source:kafka:kafka://kafka.sales.svc:9092/orders'), {
        id: 'source:kafka:kafka://kafka.sales.svc:9092/orders',
        type: 'source',
        label: 'kafka://kafka.sales.svc:9092/orders',
        sourceType: 'kafka',
        uri: 'kafka://kafka.sales.svc:9092/orders',
      })
      const clean = node(g, 'transition:orders/clean')
      assert.equal(clean.label, 'clean (transformation)')
      assert.equal(clean.transitionKind, 'transformation')
      assert.deepEqual(clean.schedule, ['0 2 * * *'])
      assert.deepEqual(clean.triggers, ['orders-events'])
      assert.deepEqual(clean.workflows, ['orders-nightly'])
      // No workflow runs `ingest`: nothing to say about when.
      assert.equal(node(g, 'transition:orders/ingest').schedule, undefined)
      const api = node(g, 'output:orders-api')
      assert.equal(api.label, 'orders-api (api)')
      assert.equal(api.portType, 'api')
      assert.equal(api.contract, 'orders-clean')
      assert.equal(api.storage, 'operational')
      const state = node(g, 'state:orders@1.1.0/daily')
      assert.deepEqual([state.schema, state.version, state.state], ['orders', '1.1.0', 'daily'])
    })

    it('gives a merge transition one edge from each of its from states', async () => {
      const g = await lineageOfDirectory(CROSS)
      const enrich = node(g, 'transition:orders/enrich')
      assert.equal(enrich.label, 'enrich (merge)')
      assert.deepEqual(
        g.edges.filter((e) => e.to === enrich.id).map((e) => [e.from, e.type]),
        [
          ['state:customers@1.0.0/clean', 'from'],
          ['state:orders@2.0.0/raw', 'from'],
        ],
      )
      assert.deepEqual(
        g.edges.filter((e) => e.from === enrich.id).map((e) => [e.to, e.type]),
        [['state:orders@2.0.0/enriched', 'to']],
      )
    })

    it('joins the flows of two schemas where one reads the other\'s state by a full ref', async () => {
      const g = await lineageOfDirectory(CROSS)
      // customers' flow writes customers@1.0.0/clean; orders' flow reads it: one node, not two.
      assert.equal(g.nodes.filter((n) => n.label === 'customers@1.0.0/clean').length, 1)
      assert.ok(reaches(g, 'source:kafka:kafka://kafka.shop.svc:9092/customers', 'output:orders-enriched'))
      assert.ok(reaches(g, 'source:product:webshop/orders-api', 'output:orders-enriched'))
      assert.ok(!reaches(g, 'source:product:webshop/orders-api', 'state:customers@1.0.0/clean'))
    })

    it('shows another product\'s output port as a source named product/port, with its contract', async () => {
      const g = await lineageOfDirectory(CROSS)
      const source = node(g, 'source:product:webshop/orders-api')
      assert.equal(source.label, 'webshop/orders-api')
      assert.deepEqual([source.sourceType, source.product, source.port, source.contract], ['product', 'webshop', 'orders-api', 'webshop-orders'])
      assert.deepEqual(source.notes, ['contract: webshop-orders'])
    })

    it('links an input port that reads its own product\'s output port to that port, not to a foreign source', async () => {
      const g = buildLineage(await withExtraDocument(TINY, 'services/items/loop.yaml', LOOP_PORT))
      assert.ok(edgeList(g).includes('output:items-out -> input:items-again'))
      assert.equal(g.nodes.filter((n) => n.type === 'source' && n.product === 'items').length, 0)
      // No flow names the port, so it sits at the state it declares.
      assert.ok(edgeList(g).includes('input:items-again -> state:items@1.0.0/clean'))
    })

    it('lists nodes by type then id and edges in node order, whatever the file order', async () => {
      const g = await lineageOfDirectory(CROSS)
      const types = g.nodes.map((n) => n.type)
      assert.deepEqual(types, [...types].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)))
      const reversed = await loadReversed(CROSS)
      assert.deepEqual(buildLineage(validateProject(reversed).context), g)
    })
  })

  describe('formats', () => {
    it('renders a tiny product as a mermaid flowchart', async () => {
      const g = await lineageOfDirectory(TINY)
      assert.equal(
        formatMermaid(g),
        `flowchart LR
  src_https_example_com_items[/"https://example.com/items"/]
  in_items_in(["items-in"])
  st_items_1_0_0_clean["items@1.0.0/clean"]
  st_items_1_0_0_raw["items@1.0.0/raw"]
  tr_items_clean{{"clean (transformation)<br/>schedule: */15 * * * *"}}
  out_items_out(["items-out (api)<br/>contract: items-clean<br/>storage: operational"])
  src_https_example_com_items --> in_items_in
  in_items_in --> st_items_1_0_0_raw
  st_items_1_0_0_clean --> out_items_out
  st_items_1_0_0_raw --> tr_items_clean
  tr_items_clean --> st_items_1_0_0_clean
  classDef source fill:#f5f5f5,stroke:#757575
  class src_https_example_com_items source
  classDef inputPort fill:#e3f2fd,stroke:#1e88e5
  class in_items_in inputPort
  classDef state fill:#ffffff,stroke:#424242
  class st_items_1_0_0_clean,st_items_1_0_0_raw state
  classDef transition fill:#fff8e1,stroke:#f9a825
  class tr_items_clean transition
  classDef outputPort fill:#e8f5e9,stroke:#43a047
  class out_items_out outputPort`,
      )
    })

    it('renders a tiny product as a Graphviz digraph', async () => {
      const g = await lineageOfDirectory(TINY)
      assert.equal(
        formatDot(g),
        `digraph "lineage of items" {
  rankdir=LR;
  "source:http:https://example.com/items" [label="https://example.com/items", shape=cylinder];
  "input:items-in" [label="items-in", shape=cds, style=filled, fillcolor="#e3f2fd"];
  "state:items@1.0.0/clean" [label="items@1.0.0/clean", shape=box, style=rounded];
  "state:items@1.0.0/raw" [label="items@1.0.0/raw", shape=box, style=rounded];
  "transition:items/clean" [label="clean (transformation)\\nschedule: */15 * * * *", shape=hexagon, style=filled, fillcolor="#fff8e1"];
  "output:items-out" [label="items-out (api)\\ncontract: items-clean\\nstorage: operational", shape=cds, style=filled, fillcolor="#e8f5e9"];
  "source:http:https://example.com/items" -> "input:items-in";
  "input:items-in" -> "state:items@1.0.0/raw";
  "state:items@1.0.0/clean" -> "output:items-out";
  "state:items@1.0.0/raw" -> "transition:items/clean";
  "transition:items/clean" -> "state:items@1.0.0/clean";
}`,
      )
    })

    it('escapes quotes and angle brackets in labels and keeps diagram ids unique and safe', () => {
      const g: LineageGraph = {
        nodes: [
          {id: 'source:kafka:broker:9092/a-b', type: 'source', label: 'kafka: broker:9092/a-b "x" <y> #1'},
          {id: 'source:kafka:broker:9092/a_b', type: 'source', label: 'other'},
          {id: 'state:end@1.0.0/end', type: 'state', label: 'end@1.0.0/end'},
        ],
        edges: [{from: 'source:kafka:broker:9092/a-b', to: 'state:end@1.0.0/end', type: 'source'}],
      }
      assert.deepEqual([...diagramIds(g).values()], ['src_broker_9092_a_b', 'src_broker_9092_a_b_2', 'st_end_1_0_0_end'])
      const mermaid = formatMermaid(g).split('\n')
      assert.equal(mermaid[1], '  src_broker_9092_a_b[/"kafka: broker:9092/a-b #quot;x#quot; #lt;y#gt; #35;1"/]')
      assert.equal(mermaid[4], '  src_broker_9092_a_b --> st_end_1_0_0_end')
      const dot = formatDot(g).split('\n')
      assert.equal(dot[0], 'digraph "lineage" {')
      assert.equal(dot[2], '  "source:kafka:broker:9092/a-b" [label="kafka: broker:9092/a-b \\"x\\" <y> #1", shape=cylinder];')
    })

    it('writes json with nodes and edges that name existing nodes, the same on every run', async () => {
      const g = await lineageOfDirectory(ORDERS)
      const json = JSON.parse(formatLineage(g, 'json'))
      assert.deepEqual(Object.keys(json), ['product', 'nodes', 'edges'])
      const ids = new Set(json.nodes.map((n: any) => n.id))
      assert.equal(ids.size, json.nodes.length)
      for (const n of json.nodes) for (const key of ['id', 'type', 'label']) assert.equal(typeof n[key], 'string')
      for (const e of json.edges) assert.ok(ids.has(e.from) && ids.has(e.to), JSON.stringify(e))
      assert.equal(formatLineage(await lineageOfDirectory(ORDERS), 'json'), formatLineage(g, 'json'))
    })
  })

  describe('json result schema', () => {
    for (const [name, dir] of [['examples/orders', ORDERS], ['lineage-cross-schema', CROSS], ['lineage-tiny', TINY]]) {
      it(`describes the graph of ${name}`, async () => {
        const check = compile(lineageGraphSchema)
        const ok = check(JSON.parse(formatLineage(await lineageOfDirectory(dir), 'json')))
        assert.ok(ok, JSON.stringify(check.errors, null, 1))
      })
    }
  })

  describe('refusal', () => {
    it('refuses an invalid project with its first error and a pointer to validate', async () => {
      const error = await lineageOfDirectory(fixture('validate', 'cycle-flow')).then(
        () => undefined,
        (error_: unknown) => error_,
      )
      assert.ok(error instanceof UserError)
      assert.equal(error.exit, 1)
      assert.match(error.message, /data product in \S+cycle-flow is not valid \(1 error\)/)
      assert.match(error.message, /model\/items\/flow\.yaml:12:7 .*raw → clean → raw/)
      assert.match(error.suggestions.join('\n'), /dappmesh validate/)
    })
  })

  describe('command (built CLI)', () => {
    it('prints mermaid by default and exits 0', () => {
      const r = cli(['lineage', TINY])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^flowchart LR\n/)
    })

    it('prints the same graph for -o json and --json', () => {
      const a = cli(['lineage', TINY, '-o', 'json'])
      const b = cli(['lineage', TINY, '--json'])
      assert.equal(a.code, 0, a.stderr)
      assert.equal(b.code, 0, b.stderr)
      assert.deepEqual(JSON.parse(a.stdout), JSON.parse(b.stdout))
      assert.equal(JSON.parse(a.stdout).product, 'items')
      assert.ok(compile(lineageGraphSchema)(JSON.parse(b.stdout)))
    })

    it('prints dot with -o dot', () => {
      const r = cli(['lineage', TINY, '-o', 'dot'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^digraph "lineage of items" \{\n {2}rankdir=LR;/)
    })

    it('exits 1 on an invalid project, names the finding and validate, and shows no stack trace', () => {
      const r = cli(['lineage', fixture('validate', 'cycle-flow')])
      assert.equal(r.code, 1)
      assert.equal(r.stdout, '')
      // oclif wraps the message to the terminal width behind a ` ›` margin: read it as one line.
      const message = r.stderr.replaceAll(/\s*›\s*/g, ' ').replaceAll(/\s+/g, ' ')
      assert.match(message, /data product in \S+cycle-flow is not valid \(1 error\)/)
      assert.match(message, /model\/items\/flow\.yaml:12:7 transitions form a cycle/)
      assert.match(message, /Run `dappmesh validate \S+cycle-flow`/)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
    })

    it('exits 1 with a json error under --json on an invalid project', () => {
      const r = cli(['lineage', fixture('validate', 'cycle-flow'), '--json'])
      assert.equal(r.code, 1)
      const out = JSON.parse(r.stdout)
      assert.equal(out.error.exit, 1)
      assert.match(out.error.message, /is not valid/)
    })

    it('exits 2 on an unknown output format', () => {
      const r = cli(['lineage', TINY, '-o', 'svg'])
      assert.equal(r.code, 2)
      assert.match(r.stderr, /mermaid, dot, json/)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
    })

    it('exits 2 on a directory that does not exist', () => {
      const r = cli(['lineage', path.join(ROOT, 'test/fixtures/no-such-product')])
      assert.equal(r.code, 2)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
    })
  })
})

const ORDER = ['source', 'input-port', 'state', 'transition', 'output-port']

const LOOP_PORT = `apiVersion: dappmesh.io/v1alpha1
kind: InputPort
metadata:
  name: items-again
spec:
  entity: items
  schema: items@1.0.0/clean
  source:
    type: product
    product: items
    port: items-out
`

/** The fixture's files plus one more document, validated; the fixture on disk stays as it is. */
async function withExtraDocument(dir: string, file: string, text: string) {
  const files = await listYamlFiles(dir)
  const parsed = await Promise.all(files.map(async (f) => parseYamlFile(f, await readFile(path.join(dir, f), 'utf8'))))
  parsed.push(parseYamlFile(file, text))
  const {result, context} = validateProject(fromParsedFiles(dir, parsed))
  assert.equal(result.valid, true, JSON.stringify(result.findings, null, 1))
  return context
}

/** The project with its resources in reverse file order. */
async function loadReversed(dir: string) {
  const project = await loadProject(dir)
  return {...project, resources: [...project.resources].reverse()}
}
