import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {Chalk} from 'chalk'

import {UsageError} from '../../src/core/errors.js'
import {resolveProductRef} from '../../src/core/project/product-ref.js'
import {formatStatus} from '../../src/core/status/format.js'
import {type Snapshot, productStatus, readinessOf} from '../../src/core/status/report.js'
import {ROOT} from '../helpers/cli.js'

const plain = new Chalk({level: 0})
const NOW = Date.parse('2026-01-01T12:00:00Z')

function product(status?: any, generation = 2): any {
  return {metadata: {name: 'orders', namespace: 'sales', generation}, spec: {domain: 'sales', version: '1.0.0'}, ...(status ? {status} : {})}
}

function snapshot(extra: Partial<Snapshot> = {}): Snapshot {
  return {
    products: [],
    domains: new Map([['sales', {metadata: {name: 'sales'}, spec: {mesh: 'acme'}}]]),
    meshes: new Map([['acme', {metadata: {name: 'acme'}, status: {conditions: [{type: 'Ready', status: 'True'}]}}]]),
    parts: new Map([['sales/orders', [{kind: 'DataStorage', metadata: {name: 'operational', generation: 1}, status: {conditions: [{type: 'Ready', status: 'False', reason: 'Pending', message: 'no volume'}]}}]]]),
    warnings: [],
    ...extra,
  }
}

describe('status report', () => {
  it('counts a Ready condition only for the current generation', () => {
    assert.deepEqual(readinessOf(product({conditions: [{type: 'Ready', status: 'True', observedGeneration: 2}]})), {ready: true})
    const stale = readinessOf(product({conditions: [{type: 'Ready', status: 'True', observedGeneration: 1}]}))
    assert.equal(stale.ready, null)
    assert.match(stale.reason!, /generation 2 not yet observed/)
    assert.deepEqual(readinessOf(product()), {ready: null})
  })

  it('takes components from status.components when the operator wrote them, copying only kind, name, readiness and message', () => {
    const s = productStatus(product({components: [{kind: 'Secret', name: 'creds', ready: true, data: {password: 'c2VjcmV0'}}]}), snapshot())
    assert.equal(s.product.componentsFrom, 'status')
    assert.deepEqual(s.product.components, [{kind: 'Secret', name: 'creds', ready: true}])
  })

  it('falls back to the product\'s resources and their Ready conditions', () => {
    const s = productStatus(product(), snapshot())
    assert.equal(s.product.componentsFrom, 'resources')
    assert.deepEqual(s.product.components, [{kind: 'DataStorage', name: 'operational', ready: false, message: 'Pending: no volume'}])
    assert.equal(s.mesh.ready, true)
    assert.equal(s.domain.namespace, 'sales')
  })

  it('keeps the Warning events about the product and its components, newest first, at most ten', () => {
    const event = (name: string, at: string, namespace = 'sales') => ({involvedObject: {kind: 'DataStorage', name, namespace}, reason: 'R', message: name, lastTimestamp: at, count: 1})
    const warnings = [event('operational', '2026-01-01T11:00:00Z'), event('operational', '2026-01-01T11:30:00Z'), event('someone-else', '2026-01-01T11:59:00Z'), event('operational', '2026-01-01T11:59:00Z', 'other')]
    const s = productStatus(product(), snapshot({warnings}))
    assert.deepEqual(s.product.events.map((e) => e.lastSeen), ['2026-01-01T11:30:00Z', '2026-01-01T11:00:00Z'])
  })

  it('draws mesh → domain → product → sections as a tree', () => {
    const s = productStatus(product({observedGeneration: 2, conditions: [{type: 'Ready', status: 'True', reason: 'Reconciled', lastTransitionTime: '2026-01-01T11:58:00Z', observedGeneration: 2}]}), snapshot())
    assert.equal(
      formatStatus([s], plain, {detail: true, now: NOW}),
      [
        'DataMesh acme  Ready',
        '└─ DataDomain sales (namespace sales)  Unknown',
        '   └─ DataProduct orders 1.0.0  Ready',
        '      ├─ conditions',
        '      │  └─ Ready=True Reconciled  2m ago',
        '      ├─ components 0/1 ready (from the product\'s resources; the operator has not reported any)',
        '      │  └─ DataStorage/operational  NotReady  Pending: no volume',
        '      └─ recent warning events: none',
      ].join('\n'),
    )
  })
  describe('the runtime', () => {
    const components = [
      {kind: 'Service', name: 'orders-runtime', ready: true, message: 'exists'},
      {kind: 'StatefulSet', name: 'orders-runtime', ready: false, message: '0/1 replicas ready'},
    ]
    const recorded = {
      workflows: [
        {workflow: 'orders-nightly', run: 'r-2', result: 'failed', startedAt: '2026-01-01T11:00:00Z', finishedAt: '2026-01-01T11:30:00Z', rows: 0, message: 'contract orders-daily failed'},
        {workflow: 'hourly', run: 'r-1', result: 'succeeded', finishedAt: '2026-01-01T11:59:00Z', rows: 1200},
        {result: 'succeeded'},
      ],
      contracts: [{port: 'orders-daily', contract: 'urn:acme:sales:orders-daily', version: '1.0.0', result: 'failed', checkedAt: '2026-01-01T11:30:00Z', failed: ['rowCount mustBeGreaterThan 0'], secret: 'x'}],
    }

    it('shows the runtime StatefulSet\'s readiness with the last run per workflow and the contract results it recorded, dropping malformed entries', () => {
      const s = productStatus(product({components, runtime: recorded}), snapshot())
      assert.deepEqual(s.product.runtime, {
        name: 'orders-runtime',
        ready: false,
        message: '0/1 replicas ready',
        workflows: [
          {workflow: 'hourly', run: 'r-1', result: 'succeeded', finishedAt: '2026-01-01T11:59:00Z', rows: 1200},
          {workflow: 'orders-nightly', run: 'r-2', result: 'failed', startedAt: '2026-01-01T11:00:00Z', finishedAt: '2026-01-01T11:30:00Z', rows: 0, message: 'contract orders-daily failed'},
        ],
        contracts: [{port: 'orders-daily', contract: 'urn:acme:sales:orders-daily', version: '1.0.0', result: 'failed', checkedAt: '2026-01-01T11:30:00Z', failed: ['rowCount mustBeGreaterThan 0']}],
      })
    })

    it('draws the runtime as a section of the product, and says when nothing ran yet', () => {
      const lines = formatStatus([productStatus(product({components, runtime: recorded}), snapshot())], plain, {detail: true, now: NOW}).split('\n')
      const at = lines.findIndex((l) => l.includes('runtime StatefulSet/orders-runtime'))
      assert.deepEqual(lines.slice(at, at + 4), [
        '      ├─ runtime StatefulSet/orders-runtime  NotReady  0/1 replicas ready',
        '      │  ├─ workflow hourly: succeeded, 1200 rows  1m ago',
        '      │  ├─ workflow orders-nightly: failed, 0 rows: contract orders-daily failed  30m ago',
        '      │  └─ contract of orders-daily (urn:acme:sales:orders-daily 1.0.0): failed: rowCount mustBeGreaterThan 0  30m ago',
      ])
      const fresh = formatStatus([productStatus(product({components}), snapshot())], plain, {detail: true, now: NOW})
      assert.match(fresh, /runtime StatefulSet\/orders-runtime {2}NotReady.*\n.*└─ no run recorded yet/)
    })

    it('has no runtime section for a product an older operator reconciled (no runtime component)', () => {
      assert.equal(productStatus(product({components: [components[0]]}), snapshot()).product.runtime, undefined)
    })
  })
})

describe('product reference', () => {
  it('reads the name and the domain\'s namespace from a project directory, -n overriding it', async () => {
    const dir = path.join(ROOT, 'examples/orders')
    assert.deepEqual(await resolveProductRef(dir), {name: 'orders', namespace: 'sales', dir})
    assert.equal((await resolveProductRef(dir, {namespace: 'elsewhere'})).namespace, 'elsewhere')
    assert.deepEqual(await resolveProductRef(undefined, {cwd: path.join(dir, 'storage')}), {name: 'orders', namespace: 'sales', dir})
  })

  it('takes a bare name as a product name', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-ref-'))
    try {
      assert.deepEqual(await resolveProductRef('orders', {cwd: empty}), {name: 'orders', namespace: undefined})
    } finally {
      rmSync(empty, {recursive: true, force: true})
    }
  })

  it('refuses what is neither a name nor a project (usage, exit 2)', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-ref-'))
    try {
      await assert.rejects(resolveProductRef('Bad_Name', {cwd: empty}), (e: unknown) => e instanceof UsageError && /not a product name/.test(e.message))
      await assert.rejects(resolveProductRef(empty), (e: unknown) => e instanceof UsageError && /has no dappmesh\.yaml/.test(e.message))
      await assert.rejects(resolveProductRef('./missing', {cwd: empty}), (e: unknown) => e instanceof UsageError && /no such directory/.test(e.message))
      await assert.rejects(resolveProductRef(undefined, {cwd: empty}), (e: unknown) => e instanceof UsageError && /not inside a dappmesh project/.test(e.message))
    } finally {
      rmSync(empty, {recursive: true, force: true})
    }
  })
})
