import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'

import type {Lease} from '../../src/core/kube/objects.js'
import {resourcePath} from '../../src/core/kube/paths.js'
import type {KubeRest} from '../../src/core/kube/rest.js'
import {LostLeadershipError, runAsLeader} from '../../src/core/reconcile/leader.js'
import {requireCluster} from '../helpers/cluster.js'
import {kubeClient} from '../helpers/kube.js'

/**
 * What an idle leader costs the API server: it renews its lease every retry period for as long as
 * it runs. The lease is a real one on a real control plane; the client records the method and
 * path of every request it sends.
 */
describe('leader election: renewing the lease (real control plane)', function () {
  let rest: KubeRest
  const namespace = `renew-${randomBytes(3).toString('hex')}`
  const silent = () => {}

  before(async function () {
    rest = await kubeClient(await requireCluster(this))
  })

  after(async () => {
    await rest?.delete(resourcePath('v1', 'Namespace', undefined, namespace)).catch(() => {})
    rest?.close()
  })

  /** The client, recording `METHOD path` of each request to a Lease. */
  function recording(): {client: KubeRest; leaseRequests: string[]} {
    const leaseRequests: string[] = []
    const client = new Proxy(rest, {
      get(target, property, receiver) {
        if (property !== 'request') return Reflect.get(target, property, receiver)
        const request: KubeRest['request'] = (method, path, options) => {
          if (path.includes('/leases')) leaseRequests.push(`${method} ${path}`)
          return target.request(method, path, options)
        }
        return request
      },
    })
    return {client, leaseRequests}
  }

  async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  it('renews with one PUT per retry period while it leads, reading the lease only to take it and to release it', async () => {
    const {client, leaseRequests} = recording()
    const stop = new AbortController()
    let renewals = -1 // the first call is the acquisition
    await runAsLeader(client, {namespace, name: 'renewals', retryPeriodMs: 100, log: silent, onHeldUntil: () => renewals++}, stop.signal, async () => {
      await until(() => renewals >= 6, 'six renewals')
      // A graceful stop: the loops return, the lease is released.
      stop.abort()
    })
    const gets = leaseRequests.filter((r) => r.startsWith('GET '))
    const puts = leaseRequests.filter((r) => r.startsWith('PUT '))
    // Taking the lease reads it (404, then POST); releasing it reads it again; renewals only write.
    assert.equal(gets.length, 2, leaseRequests.join('\n'))
    assert.ok(puts.length >= 7, `six renewals and the release are PUTs:\n${leaseRequests.join('\n')}`)
    const lease = await rest.request<Lease>('GET', resourcePath('coordination.k8s.io/v1', 'Lease', namespace, 'renewals'))
    assert.equal(lease.spec?.holderIdentity, '', 'released on a graceful stop')
  })

  it('steps down without overwriting the lease when another holder took it since its last renewal', async () => {
    const path = resourcePath('coordination.k8s.io/v1', 'Lease', namespace, 'taken')
    const stop = new AbortController()
    let renewals = -1
    let taken = false
    const run = runAsLeader(rest, {namespace, name: 'taken', retryPeriodMs: 100, renewDeadlineMs: 1000, log: silent, onHeldUntil: () => renewals++}, stop.signal, async (leading) => {
      await until(() => renewals >= 2, 'two renewals')
      // Another candidate's write (its lease duration is 15 s: it holds it for the rest of the test).
      const lease = await rest.request<Lease>('GET', path)
      await rest.request('PUT', path, {body: {...lease, spec: {...lease.spec, holderIdentity: 'someone-else', renewTime: new Date().toISOString().replace('Z', '000Z')}}})
      taken = true
      await new Promise((resolve) => leading.addEventListener('abort', resolve, {once: true}))
    })
    await assert.rejects(run, LostLeadershipError)
    stop.abort()
    assert.ok(taken)
    const lease = await rest.request<Lease>('GET', path)
    assert.equal(lease.spec?.holderIdentity, 'someone-else')
  })
})
