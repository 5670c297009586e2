import assert from 'node:assert/strict'

import type {KubeObject} from '../../src/core/kube/objects.js'
import type {KubeRest, WatchEvent} from '../../src/core/kube/rest.js'
import {OwnWrites} from '../../src/core/reconcile/changes.js'
import {Controller, type WatchSpec} from '../../src/core/reconcile/controller.js'

const configMap = (name: string, rv: string) => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {namespace: 'ns', name, resourceVersion: rv}})

/**
 * A stand-in for KubeRest's list and watch that counts the requests per path: every list answers
 * one ConfigMap, every watch modifies it once and then stays open (the controllers' sharing is
 * under test here; the real API server's behaviour is tested in test/integration).
 */
function counting() {
  const requests: string[] = []
  const rest = {
    async list(path: string, query: {labelSelector?: string}) {
      requests.push(`list ${path}?${query?.labelSelector ?? ''}`)
      return {kind: 'ConfigMapList', apiVersion: 'v1', metadata: {resourceVersion: '10'}, items: [configMap('a', '5')]}
    },
    async watch(path: string, query: {labelSelector?: string}, onEvent: (e: WatchEvent) => void, signal: AbortSignal) {
      requests.push(`watch ${path}?${query?.labelSelector ?? ''}`)
      onEvent({type: 'MODIFIED', object: configMap('a', '11') as KubeObject})
      await new Promise((resolve) => signal.addEventListener('abort', resolve, {once: true}))
    },
  }
  return {rest: rest as unknown as KubeRest, requests}
}

function controller(rest: KubeRest, name: string, spec: WatchSpec<'ConfigMap'>, reconciled: string[]): Controller {
  return new Controller({name, rest, primary: spec, reconcile: async (key) => void reconciled.push(`${name} ${key}`)})
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 200) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('controllers sharing informers', () => {
  it('watch a collection two controllers read once, and each reconciles on its changes from the one cache', async () => {
    const {rest, requests} = counting()
    const reconciled: string[] = []
    const spec: WatchSpec<'ConfigMap'> = {name: 'ConfigMap', path: '/api/v1/configmaps'}
    const first = controller(rest, 'first', spec, reconciled)
    const second = controller(rest, 'second', {...spec, keysFor: (cm) => [`from-${cm.metadata.name}`]}, reconciled)
    assert.equal(Controller.shareInformers([first, second]), 1)
    const stop = new AbortController()
    const running = Promise.all([first.run(stop.signal), second.run(stop.signal)])
    await until(() => reconciled.includes('first ns/a') && reconciled.includes('second from-a') && first.cache('ConfigMap').get('ns/a')?.metadata.resourceVersion === '11')
    stop.abort()
    await running
    assert.deepEqual(requests, ['list /api/v1/configmaps?', 'watch /api/v1/configmaps?'])
    assert.equal(first.cache('ConfigMap'), second.cache('ConfigMap'))
    assert.ok(first.ready && second.ready)
  })

  it('serve a label selector from the informer that watches the collection whole: one watch, and a cache and events showing only what the selector matches', async () => {
    const requests: string[] = []
    const labelled = (name: string, rv: string, labels?: Record<string, string>) => ({...configMap(name, rv), metadata: {...configMap(name, rv).metadata, ...(labels ? {labels} : {})}})
    let emit: (e: WatchEvent) => void = () => {}
    const rest = {
      async list(path: string, query: {labelSelector?: string}) {
        requests.push(`list ${path}?${query?.labelSelector ?? ''}`)
        return {kind: 'ConfigMapList', apiVersion: 'v1', metadata: {resourceVersion: '10'}, items: [labelled('a', '5', {app: 'x'}), labelled('b', '6')]}
      },
      async watch(path: string, query: {labelSelector?: string}, onEvent: (e: WatchEvent) => void, signal: AbortSignal) {
        requests.push(`watch ${path}?${query?.labelSelector ?? ''}`)
        emit = onEvent
        await new Promise((resolve) => signal.addEventListener('abort', resolve, {once: true}))
      },
    } as unknown as KubeRest
    const events: string[] = []
    const spec: WatchSpec<'ConfigMap'> = {name: 'ConfigMap', path: '/api/v1/configmaps'}
    const whole = controller(rest, 'whole', spec, [])
    const selected = new Controller({name: 'selected', rest, primary: {...spec, labelSelector: 'app=x', keysFor: (cm: KubeObject) => [cm.metadata.name]}, reconcile: async (key) => void events.push(key)})
    assert.equal(Controller.shareInformers([selected, whole]), 1)
    const stop = new AbortController()
    const running = Promise.all([whole.run(stop.signal), selected.run(stop.signal)])
    await until(() => events.includes('a'))
    assert.deepEqual(selected.cache('ConfigMap').values().map((cm) => cm.metadata.name), ['a'])
    assert.equal(selected.cache('ConfigMap').get('ns/b'), undefined)
    assert.deepEqual(whole.cache('ConfigMap').values().map((cm) => cm.metadata.name).sort(), ['a', 'b'])
    // b gains the label, a loses it: to the selected view, b is added and a deleted.
    emit({type: 'MODIFIED', object: labelled('b', '11', {app: 'x'}) as KubeObject})
    emit({type: 'MODIFIED', object: labelled('a', '12', {app: 'y'}) as KubeObject})
    await until(() => events.filter((k) => k === 'a').length === 2 && events.includes('b'))
    stop.abort()
    await running
    assert.deepEqual(selected.cache('ConfigMap').inNamespace('ns').map((cm) => cm.metadata.name), ['b'])
    assert.deepEqual(requests, ['list /api/v1/configmaps?', 'watch /api/v1/configmaps?'])
    assert.ok(selected.ready)
  })

  it('keep informers of their own where one filters or strips what it caches, or their selectors differ and none watches the whole collection', () => {
    const {rest} = counting()
    const spec: WatchSpec<'ConfigMap'> = {name: 'ConfigMap', path: '/api/v1/configmaps'}
    const plain = controller(rest, 'plain', spec, [])
    const filtered = controller(rest, 'filtered', {...spec, filter: (cm) => cm.metadata.name !== 'b'}, [])
    const stripped = controller(rest, 'stripped', {...spec, strip: (cm) => delete cm.data}, [])
    assert.equal(Controller.shareInformers([plain, filtered, stripped]), 0)
    assert.notEqual(plain.cache('ConfigMap'), filtered.cache('ConfigMap'))
    assert.notEqual(plain.cache('ConfigMap'), stripped.cache('ConfigMap'))
    const one = controller(rest, 'one', {...spec, labelSelector: 'app'}, [])
    const other = controller(rest, 'other', {...spec, labelSelector: 'tier=gold'}, [])
    assert.equal(Controller.shareInformers([one, other]), 0)
    assert.notEqual(one.cache('ConfigMap'), other.cache('ConfigMap'))
  })
})

describe('a controller\'s own writes', () => {
  /** A watch whose events the test sends, and a reconcile that the test holds open. */
  function scripted() {
    let emit: (e: WatchEvent) => void = () => {}
    const rest = {
      async list() {
        return {kind: 'ConfigMapList', apiVersion: 'v1', metadata: {resourceVersion: '10'}, items: [{...configMap('a', '5'), metadata: {...configMap('a', '5').metadata, uid: 'u-a'}}]}
      },
      async watch(_path: string, _query: unknown, onEvent: (e: WatchEvent) => void, signal: AbortSignal) {
        emit = onEvent
        await new Promise((resolve) => signal.addEventListener('abort', resolve, {once: true}))
      },
    } as unknown as KubeRest
    return {rest, emit: (rv: string) => emit({type: 'MODIFIED', object: {...configMap('a', rv), metadata: {...configMap('a', rv).metadata, uid: 'u-a', labels: {rv}}} as KubeObject})}
  }

  for (const [what, ours, reconciles] of [
    ['whose watch event arrives before the write\'s answer wake no second reconcile', true, 1],
    ['do not hide a change someone else made while the reconcile ran', false, 2],
  ] as const) {
    it(what, async () => {
      const {rest, emit} = scripted()
      const writes = new OwnWrites()
      let count = 0
      const c = new Controller({
        name: 'echo',
        rest,
        primary: {name: 'ConfigMap', path: '/api/v1/configmaps', echo: (o) => writes.echoes(o)},
        reconcile: async () => {
          count++
          if (count > 1) return
          // The event of the write is read first, then the answer (what OwnWrites is told).
          emit('11')
          await new Promise((resolve) => setTimeout(resolve, 20))
          if (ours) writes.wrote({metadata: {uid: 'u-a', resourceVersion: '11'}})
        },
      })
      const stop = new AbortController()
      const running = c.run(stop.signal)
      await until(() => count >= 1 && c.queue.depth === 0 && c.queue.active === 0)
      await new Promise((resolve) => setTimeout(resolve, 50))
      stop.abort()
      await running
      assert.equal(count, reconciles)
    })
  }
})
