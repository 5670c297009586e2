import assert from 'node:assert/strict'

import type {KubeObject} from '../../src/core/kube/objects.js'
import type {KubeRest, WatchEvent} from '../../src/core/kube/rest.js'
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

  it('keep informers of their own where the label selectors differ or one filters what it caches', () => {
    const {rest} = counting()
    const spec: WatchSpec<'ConfigMap'> = {name: 'ConfigMap', path: '/api/v1/configmaps'}
    const plain = controller(rest, 'plain', spec, [])
    const selected = controller(rest, 'selected', {...spec, labelSelector: 'app'}, [])
    const filtered = controller(rest, 'filtered', {...spec, filter: (cm) => cm.metadata.name !== 'b'}, [])
    const stripped = controller(rest, 'stripped', {...spec, strip: (cm) => delete cm.data}, [])
    assert.equal(Controller.shareInformers([plain, selected, filtered, stripped]), 0)
    assert.notEqual(plain.cache('ConfigMap'), selected.cache('ConfigMap'))
    assert.notEqual(plain.cache('ConfigMap'), filtered.cache('ConfigMap'))
    assert.notEqual(plain.cache('ConfigMap'), stripped.cache('ConfigMap'))
  })
})
