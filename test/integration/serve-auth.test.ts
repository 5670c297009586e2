import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {startServe} from '../../src/core/runtime/serve.js'
import {BIN} from '../helpers/cli.js'
import {createTestNamespace, requireCluster} from '../helpers/cluster.js'
import {type ShopRuntime, call, copyShop, ndjson, orders, push} from '../helpers/runtime.js'

describe('serve: access checked by TokenReview and DataRoles (real control plane)', function () {
  let kubeconfig: string
  let ns: {name: string; remove: () => Promise<void>}
  let shop: ShopRuntime
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8'}).trim()
  const token = (sa: string) => kubectl('create', 'token', sa, '-n', ns.name)
  const bearer = (t: string) => ({authorization: `Bearer ${t}`})

  before(async function () {
    kubeconfig = await requireCluster(this)
    ns = await createTestNamespace(kubeconfig, 'serve-auth')
    for (const sa of ['reader', 'writer', 'nobody', 'gone']) kubectl('create', 'serviceaccount', sa, '-n', ns.name)
    const dir = await copyShop()
    const roles = path.join(dir, 'mesh', 'roles.yaml')
    await writeFile(roles, (await readFile(roles, 'utf8')).replaceAll('namespace: serve-test', `namespace: ${ns.name}`))
    const handle = await startServe({dir, host: '127.0.0.1', port: 0, auth: true, kubeconfig, maxBody: 1024 * 1024})
    shop = {dir, url: handle.url, handle, stop: async () => {
      await handle.stop()
      await rm(dir, {recursive: true, force: true})
    }}
  })
  after(async () => {
    await shop?.stop()
    await ns?.remove()
  })

  it('answers 401 to a request without a token, saying how to get one', async () => {
    const res = await call(`${shop.url}/v1/ports/orders-api`)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer')
    assert.match(res.json.error.message, /Authorization: Bearer.*kubectl create token/)
  })

  it('answers 401 to a token the API server does not accept', async () => {
    const res = await call(`${shop.url}/v1/ports/orders-api`, {headers: bearer('not-a-token')})
    assert.equal(res.status, 401)
    assert.match(res.json.error.message, /not accepted by the API server/)
  })

  it('answers 401 to the token of a ServiceAccount that was deleted (revoked)', async () => {
    const t = token('gone')
    kubectl('delete', 'serviceaccount', 'gone', '-n', ns.name)
    const res = await call(`${shop.url}/v1/ports/orders-api`, {headers: bearer(t)})
    assert.equal(res.status, 401)
  })

  it('serves a port to a subject a DataRole grants read on it', async () => {
    const res = await call(`${shop.url}/v1/ports/orders-api`, {headers: bearer(token('reader'))})
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.json.rows, [])
  })

  it('answers 403 to a subject granted nothing, naming what it needs', async () => {
    const res = await call(`${shop.url}/v1/ports/orders-api`, {headers: bearer(token('nobody'))})
    assert.equal(res.status, 403)
    assert.match(res.json.error.message, new RegExp(`system:serviceaccount:${ns.name}:nobody may not do this: it needs read on output port orders-api or storage analytics`))
  })

  it('answers 403 to a reader on a port its role does not name, and to its pushes', async () => {
    const t = token('reader')
    assert.equal((await call(`${shop.url}/v1/ports/orders-daily`, {headers: bearer(t)})).status, 403)
    const pushed = await push(shop.url, 'orders-in', ndjson(orders(1, 2)), undefined, bearer(t))
    assert.equal(pushed.status, 403)
    assert.match(pushed.json.error.message, /needs write on storage analytics/)
  })

  it('takes pushes from a subject granted write on the storage, and lists only readable ports', async () => {
    const pushed = await push(shop.url, 'orders-in', ndjson(orders(1, 2)), undefined, bearer(token('writer')))
    assert.equal(pushed.status, 200, pushed.text)
    assert.equal(pushed.json.accepted, 2)
    const listed = await call(`${shop.url}/v1/ports`, {headers: bearer(token('reader'))})
    assert.deepEqual(listed.json.ports.map((p: any) => p.name), ['orders-api'])
  })

  it('leaves /healthz, /readyz and /metrics open for probes and scrapers', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics']) assert.equal((await call(`${shop.url}${p}`)).status, 200, p)
  })
})

describe('serve --product: the model from the API server, followed without a restart (real control plane)', function () {
  let kubeconfig: string
  let ns: {name: string; remove: () => Promise<void>}
  let dir: string
  let handle: Awaited<ReturnType<typeof startServe>> | undefined
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8'}).trim()

  before(async function () {
    kubeconfig = await requireCluster(this)
    ns = await createTestNamespace(kubeconfig, 'serve-cluster')
    dir = await copyShop()
    // The product's domain puts it in the test's namespace.
    const domain = path.join(dir, 'mesh', 'domain.yaml')
    await writeFile(domain, (await readFile(domain, 'utf8')).replace('name: sales', `name: ${ns.name}`).replace('namespace: sales', `namespace: ${ns.name}`))
    const product = path.join(dir, 'dappmesh.yaml')
    await writeFile(product, (await readFile(product, 'utf8')).replace('domain: sales', `domain: ${ns.name}`))
    execFileSync(process.execPath, [BIN, 'apply', dir, '--kubeconfig', kubeconfig], {encoding: 'utf8', stdio: 'pipe'})
  })
  after(async () => {
    await handle?.stop()
    kubectl('delete', 'datadomain', ns.name, '--ignore-not-found', '--wait=false')
    await ns?.remove()
    await rm(dir, {recursive: true, force: true})
  })

  it('serves the ports of the product as installed, and follows a port deleted in the cluster', async () => {
    handle = await startServe({product: 'shop', namespace: ns.name, host: '127.0.0.1', port: 0, auth: false, kubeconfig, dataDir: path.join(dir, 'cluster-data'), maxBody: 1024 * 1024})
    const before = await call(`${handle.url}/v1/ports`)
    assert.deepEqual(before.json.ports.map((p: any) => p.name), ['orders-api', 'orders-daily', 'orders-log'])
    assert.equal(before.json.ports[0].contract.id, 'urn:test:shop:orders-clean')
    kubectl('delete', 'outputport', 'shop.orders-log', '-n', ns.name)
    const deadline = Date.now() + 20_000
    for (;;) {
      const now = await call(`${handle.url}/v1/ports`)
      if (now.json.ports.length === 2) break
      assert.ok(Date.now() < deadline, 'the runtime did not follow the deleted port within 20 s')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    assert.equal((await call(`${handle.url}/v1/ports/orders-log`)).status, 404)
  })
})
