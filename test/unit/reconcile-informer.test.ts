import assert from 'node:assert/strict'

import type {KubeObject} from '../../src/core/kube/objects.js'
import {KubeApiError, type KubeRest, type WatchEvent} from '../../src/core/kube/rest.js'
import {Informer} from '../../src/core/reconcile/informer.js'

const obj = (name: string, rv: string) => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {namespace: 'ns', name, resourceVersion: rv}})

type Step = {list: () => any} | {watch: (query: any, emit: (e: WatchEvent) => void) => Promise<void> | void}

/**
 * A scripted stand-in for KubeRest's get and watch (plain objects: the informer's own state
 * machine is under test here; the real API server's behaviour is tested in test/integration).
 */
function scripted(steps: Step[]) {
  const calls: string[] = []
  let done: () => void
  const finished = new Promise<void>((resolve) => (done = resolve))
  const next = (kind: 'list' | 'watch') => {
    const step = steps.shift()
    if (!step) {
      done()
      return undefined
    }
    if (!(kind in step)) throw new Error(`expected ${Object.keys(step)[0]}, got ${kind}`)
    return step
  }
  const rest = {
    async list(_path: string, query: any) {
      calls.push(`list ${query?.labelSelector ?? ''}`.trim())
      const step = next('list') as any
      if (!step) return new Promise(() => {})
      return step.list()
    },
    async watch(_path: string, query: any, onEvent: (e: WatchEvent) => void, signal: AbortSignal) {
      calls.push(`watch rv=${query.resourceVersion}`)
      const step = next('watch') as any
      if (!step) return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()))
      return step.watch(query, onEvent)
    },
  }
  return {rest: rest as unknown as KubeRest, calls, finished}
}

async function runUntilScriptEnds(informer: Informer, finished: Promise<void>): Promise<void> {
  const abort = new AbortController()
  const running = informer.run(abort.signal)
  await finished
  abort.abort()
  await running
}

describe('reconcile informer', () => {
  it('lists, then watches from the list\'s resourceVersion, keeping its cache current and resuming after a bookmark', async () => {
    const events: string[] = []
    const {rest, calls, finished} = scripted([
      {list: () => ({kind: 'ConfigMapList', apiVersion: 'v1', metadata: {resourceVersion: '10'}, items: [{metadata: {namespace: 'ns', name: 'a', resourceVersion: '5'}}, {metadata: {namespace: 'ns', name: 'c', resourceVersion: '6'}}]})},
      {
        watch: (_q, emit) => {
          emit({type: 'ADDED', object: obj('b', '11')})
          emit({type: 'MODIFIED', object: obj('a', '12')})
          emit({type: 'DELETED', object: obj('b', '13')})
          emit({type: 'BOOKMARK', object: {metadata: {resourceVersion: '20'}} as KubeObject})
        },
      },
    ])
    const informer = new Informer(rest, {path: '/api/v1/configmaps', labelSelector: 'x', onEvent: (type, o) => events.push(`${type} ${o.metadata.name}`), baseBackoffMs: 1})
    await runUntilScriptEnds(informer, finished)
    assert.deepEqual(calls, ['list x', 'watch rv=10', 'watch rv=20'], 'the stream ended: watch again from the bookmark, no relist')
    assert.deepEqual(events, ['ADDED a', 'ADDED c', 'ADDED b', 'MODIFIED a', 'DELETED b'])
    assert.deepEqual(informer.values().map((o) => [o.kind, o.metadata.name, o.metadata.resourceVersion]).sort(), [['ConfigMap', 'a', '12'], ['ConfigMap', 'c', '6']], 'list items get the kind of the list')
    assert.equal(informer.get('ns/c')?.apiVersion, 'v1')
    assert.equal(informer.isSynced, true)
  })

  it('relists on a 410 Gone ERROR event, reporting what vanished meanwhile as deleted', async () => {
    const events: string[] = []
    const {rest, calls, finished} = scripted([
      {list: () => ({metadata: {resourceVersion: '10'}, items: [obj('a', '1'), obj('b', '2')]})},
      {watch: (_q, emit) => emit({type: 'ERROR', object: {kind: 'Status', code: 410, reason: 'Expired'} as unknown as KubeObject})},
      {list: () => ({metadata: {resourceVersion: '30'}, items: [obj('a', '25')]})},
    ])
    const informer = new Informer(rest, {path: '/p', onEvent: (type, o) => events.push(`${type} ${o.metadata.name}`), baseBackoffMs: 1})
    await runUntilScriptEnds(informer, finished)
    assert.deepEqual(calls.slice(0, 4), ['list', 'watch rv=10', 'list', 'watch rv=30'])
    assert.deepEqual(events, ['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b'])
    assert.equal(informer.lists, 2)
  })

  it('relists when the watch request itself answers 410', async () => {
    const {rest, calls, finished} = scripted([
      {list: () => ({metadata: {resourceVersion: '10'}, items: []})},
      {
        watch: () => {
          throw new KubeApiError(410, 'Expired', 'too old resource version', {})
        },
      },
      {list: () => ({metadata: {resourceVersion: '40'}, items: []})},
    ])
    await runUntilScriptEnds(new Informer(rest, {path: '/p', baseBackoffMs: 1}), finished)
    assert.deepEqual(calls.slice(0, 4), ['list', 'watch rv=10', 'list', 'watch rv=40'])
  })

  it('restarts after failures with a backoff that doubles, and is synced only once a list succeeded', async () => {
    const delays: number[] = []
    const failing = () => {
      throw new Error('connection refused')
    }
    const {rest, finished} = scripted([{list: failing}, {list: failing}, {list: failing}, {list: () => ({metadata: {resourceVersion: '1'}, items: []})}])
    const informer = new Informer(rest, {path: '/p', baseBackoffMs: 5, maxBackoffMs: 15, onError: (_e, ms) => delays.push(ms)})
    assert.equal(informer.isSynced, false)
    await runUntilScriptEnds(informer, finished)
    assert.deepEqual(delays, [5, 10, 15])
    assert.equal(informer.isSynced, true)
  })

  it('answers the objects of one namespace from an index that follows adds, deletions and relists', async () => {
    const inNs = (name: string, namespace: string, rv: string) => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {namespace, name, resourceVersion: rv}})
    const seen: string[][] = []
    // Called from the watch script, which runs once the informer below exists.
    const names = (namespace: string): string[] => informer.inNamespace(namespace).map((o) => o.metadata.name).sort()
    const {rest, finished} = scripted([
      {list: () => ({metadata: {resourceVersion: '10'}, items: [inNs('a', 'one', '1'), inNs('b', 'two', '2'), inNs('c', 'one', '3')]})},
      {
        watch: (_q, emit) => {
          seen.push(names('one'), names('two'))
          emit({type: 'ADDED', object: inNs('d', 'two', '11')})
          emit({type: 'DELETED', object: inNs('a', 'one', '12')})
          seen.push(names('one'), names('two'))
          emit({type: 'ERROR', object: {kind: 'Status', code: 410} as unknown as KubeObject})
        },
      },
      {list: () => ({metadata: {resourceVersion: '30'}, items: [inNs('d', 'two', '11')]})},
    ])
    const informer = new Informer(rest, {path: '/p', baseBackoffMs: 1})
    await runUntilScriptEnds(informer, finished)
    assert.deepEqual(seen, [['a', 'c'], ['b'], ['c'], ['b', 'd']])
    assert.deepEqual([names('one'), names('two'), names('nowhere')], [[], ['d'], []], 'what the relist no longer had left the index too')
  })

  it('caches objects as `strip` leaves them, and tells of a modification with the object it replaced', async () => {
    const events: Array<[string, string | undefined, string | undefined]> = []
    const secret = (rv: string) => ({apiVersion: 'v1', kind: 'Secret', metadata: {namespace: 'ns', name: 's', resourceVersion: rv, managedFields: [{manager: 'x'}]}, data: {password: 'c2VjcmV0'}})
    const {rest, finished} = scripted([
      {list: () => ({metadata: {resourceVersion: '10'}, items: [secret('1')]})},
      {watch: (_q, emit) => emit({type: 'MODIFIED', object: secret('2') as unknown as KubeObject})},
    ])
    const informer = new Informer<KubeObject & {data?: unknown}>(rest, {
      path: '/p',
      strip: (o) => delete o.data,
      onEvent: (type, o, previous) => events.push([type, o.metadata.resourceVersion, previous?.metadata.resourceVersion]),
    })
    await runUntilScriptEnds(informer, finished)
    assert.deepEqual(events, [['ADDED', '1', undefined], ['MODIFIED', '2', '1']])
    assert.deepEqual(informer.get('ns/s'), {apiVersion: 'v1', kind: 'Secret', metadata: {namespace: 'ns', name: 's', resourceVersion: '2'}}, 'no data, no managedFields')
  })
})
