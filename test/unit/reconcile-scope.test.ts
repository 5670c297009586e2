import assert from 'node:assert/strict'

import type {KubeRest, WatchEvent} from '../../src/core/kube/rest.js'
import {UsageError} from '../../src/core/errors.js'
import {Informer} from '../../src/core/reconcile/informer.js'
import {Metrics, countingWrites, resourceOfPath} from '../../src/core/reconcile/metrics.js'
import {describeScope, parseNamespaces, parseSelector, selectorMatcher, watchPaths} from '../../src/core/reconcile/scope.js'
import {STACK_TRACE, cli, flat} from '../helpers/cli.js'

describe('operator scope', () => {
  it('takes namespaces repeated and comma-separated, without duplicates', () => {
    assert.deepEqual(parseNamespaces(['sales', 'finance,ops', ' sales ']), ['sales', 'finance', 'ops'])
  })

  it('refuses a namespace that is not a DNS-1123 label, and an empty one', () => {
    for (const bad of [['Sales'], ['a_b'], ['a,,b'], [''], ['-a'], ['x'.repeat(64)]]) assert.throws(() => parseNamespaces(bad), UsageError, JSON.stringify(bad))
  })

  it('accepts equality- and set-based label selectors', () => {
    for (const good of ['team=sales', 'team==sales', 'team!=sales', 'tier in (gold, silver)', 'tier notin (bronze)', '!legacy', 'managed', 'dappmesh.io/suite=op-1a2b,env', 'a=']) {
      assert.equal(parseSelector(good), good.trim(), good)
    }
  })

  it('refuses a malformed label selector', () => {
    for (const bad of ['', 'a b', 'x in ()', 'a=b=c', 'team=sa les', '=x', 'in (a)', 'a,', 'Bad_Prefix/x=1', 'x in (a', 'k=' + 'v'.repeat(64)]) {
      assert.throws(() => parseSelector(bad), UsageError, JSON.stringify(bad))
    }
  })

  it('tests labels against a selector as the API server does (an absent key matches != and notin, not = or in)', () => {
    const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
      ['dappmesh.io/product', {'dappmesh.io/product': 'orders'}, true],
      ['dappmesh.io/product', {other: 'x'}, false],
      ['dappmesh.io/product', undefined, false],
      ['team=sales,env', {team: 'sales', env: ''}, true],
      ['team==sales', {team: 'finance'}, false],
      ['team!=sales', {}, true],
      ['team!=sales', {team: 'sales'}, false],
      ['tier in (gold, silver)', {tier: 'silver'}, true],
      ['tier in (gold)', {}, false],
      ['tier notin (bronze)', {}, true],
      ['tier notin (bronze)', {tier: 'bronze'}, false],
      ['!legacy', {legacy: 'true'}, false],
      ['!legacy', {}, true],
      ['a=', {a: ''}, true],
      // a key every object inherits is not a label
      ['constructor', {}, false],
      ['constructor!=x', {}, true],
    ]
    for (const [selector, labels, expected] of cases) assert.equal(selectorMatcher(selector)!(labels), expected, `${selector} on ${JSON.stringify(labels)}`)
  })

  it('cannot test a malformed selector (it keeps a watch of its own)', () => {
    for (const bad of ['', 'a b', 'x in ()', 'a=b=c']) assert.equal(selectorMatcher(bad), undefined, JSON.stringify(bad))
  })

  it('watches a namespaced kind once per namespace, a cluster-scoped kind once', () => {
    assert.deepEqual(watchPaths('apps/v1', 'Deployment', ['a', 'b']), {path: '/apis/apps/v1/namespaces/a/deployments', paths: ['/apis/apps/v1/namespaces/a/deployments', '/apis/apps/v1/namespaces/b/deployments']})
    assert.deepEqual(watchPaths('v1', 'Namespace', ['a', 'b']), {path: '/api/v1/namespaces'})
    assert.deepEqual(watchPaths('apps/v1', 'Deployment'), {path: '/apis/apps/v1/deployments'})
    assert.equal(describeScope({}), 'the whole cluster')
    assert.equal(describeScope({namespaces: ['a', 'b'], selector: 't=x'}), 'namespaces a, b, objects labelled t=x')
  })

  it('names the resource a write went to', () => {
    assert.equal(resourceOfPath('/apis/apps/v1/namespaces/ns/statefulsets/x?fieldManager=m'), 'statefulsets')
    assert.equal(resourceOfPath('/apis/dappmesh.io/v1alpha1/namespaces/ns/dataproducts/orders/status'), 'dataproducts/status')
    assert.equal(resourceOfPath('/api/v1/namespaces/ns/events'), 'events')
    assert.equal(resourceOfPath('/api/v1/namespaces'), 'namespaces')
    assert.equal(resourceOfPath('/api/v1/namespaces/ns'), 'namespaces')
    assert.equal(resourceOfPath('/apis/dappmesh.io/v1alpha1/datameshes/acme/status'), 'datameshes/status')
  })

  it('counts every request by verb and resource, and the writes among them apart', async () => {
    const metrics = new Metrics()
    const client = countingWrites({request: (async () => ({})) as KubeRest['request']}, metrics, 'product')
    await client.request('GET', '/api/v1/namespaces/ns/services/a')
    await client.request('PATCH', '/api/v1/namespaces/ns/services/a')
    await client.request('PATCH', '/api/v1/namespaces/ns/services/b')
    assert.equal(metrics.value('dappmesh_api_requests_total', {controller: 'product', verb: 'GET', resource: 'services'}), 1)
    assert.equal(metrics.value('dappmesh_api_requests_total', {controller: 'product', verb: 'PATCH', resource: 'services'}), 2)
    assert.equal(metrics.value('dappmesh_api_writes_total', {controller: 'product', verb: 'GET', resource: 'services'}), 0)
    assert.equal(metrics.value('dappmesh_api_writes_total', {controller: 'product', verb: 'PATCH', resource: 'services'}), 2)
  })

  it('an informer\'s filter keeps objects out of its cache and reports one that leaves the scope as deleted', async () => {
    const item = (name: string, team: string, rv: string) => ({metadata: {name, resourceVersion: rv, labels: {team}}})
    const events: string[] = []
    const abort = new AbortController()
    const rest = {
      async list() {
        return {kind: 'DataDomainList', apiVersion: 'v1', metadata: {resourceVersion: '1'}, items: [item('a', 'in', '1'), item('b', 'out', '1')]}
      },
      async watch(_path: string, _query: any, emit: (e: WatchEvent) => void, signal: AbortSignal) {
        emit({type: 'ADDED', object: item('c', 'out', '2')})
        emit({type: 'MODIFIED', object: item('a', 'out', '3')})
        emit({type: 'MODIFIED', object: item('b', 'in', '4')})
        abort.abort()
        await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve())))
      },
    }
    const informer = new Informer(rest as unknown as KubeRest, {path: '/x', filter: (o) => o.metadata.labels?.team === 'in', onEvent: (type, o) => events.push(`${type} ${o.metadata.name}`)})
    await informer.run(abort.signal)
    assert.deepEqual(events, ['ADDED a', 'DELETED a', 'MODIFIED b'])
    assert.deepEqual(informer.values().map((o) => o.metadata.name), ['b'])
  })

  it('operator run refuses a bad --namespace or --selector, and --only mesh with --namespace, with exit 2 before connecting', () => {
    for (const [args, message] of [
      [['-n', 'Sales'], /--namespace takes namespace names/],
      [['-l', 'team in ()'], /--selector takes a label selector/],
      [['--only', 'mesh', '-n', 'sales'], /the mesh loop counts and catalogues the whole cluster/],
    ] as const) {
      const r = cli(['operator', 'run', '--kubeconfig', '/nonexistent/kubeconfig', ...args])
      assert.equal(r.code, 2, r.stderr)
      assert.match(flat(r.stderr), message)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
    }
  })
})
