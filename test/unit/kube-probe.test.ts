import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {type Server, createServer} from 'node:http'
import {createServer as createTcpServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {ClusterUnreachableError} from '../../src/core/errors.js'
import {loadKubeConfig, probeServer} from '../../src/core/kube/kubeconfig.js'

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as {port: number}).port
}

describe('probing the API server', () => {
  let dir: string
  const servers: Array<{close: () => void}> = []

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-probe-'))
  })
  afterEach(async () => {
    for (const server of servers.splice(0)) server.close()
    await rm(dir, {recursive: true, force: true})
  })

  async function kubeconfigFor(server: string, context = 'c'): Promise<string> {
    const file = path.join(dir, 'kubeconfig')
    await writeFile(file, `apiVersion: v1\nkind: Config\nclusters: [{name: k, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: secret}}]\ncontexts: [{name: ${context}, context: {cluster: k, user: u}}]\ncurrent-context: ${context}\n`)
    return file
  }

  it('gives up on a server that accepts connections but never answers, naming it', async () => {
    const silent = createTcpServer(() => {})
    servers.push(silent)
    const server = `http://127.0.0.1:${await listen(silent)}`
    const loaded = await loadKubeConfig({kubeconfig: await kubeconfigFor(server)})
    const started = Date.now()
    await assert.rejects(probeServer(loaded, 300), (error: unknown) => {
      assert.ok(error instanceof ClusterUnreachableError)
      assert.equal(error.exit, 3)
      assert.equal(error.message, `cannot reach the Kubernetes API server at ${server} (context c): connection timed out`)
      return true
    })
    assert.ok(Date.now() - started < 5000)
  })

  it('tells refused credentials apart from an unreachable server, and sends the token', async () => {
    let authorization: string | undefined
    const denying = createServer((request, response) => {
      authorization = request.headers.authorization
      response.writeHead(401).end('{"kind":"Status"}')
    })
    servers.push(denying)
    const server = `http://127.0.0.1:${await listen(denying)}`
    const loaded = await loadKubeConfig({kubeconfig: await kubeconfigFor(server)})
    await assert.rejects(probeServer(loaded), /the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+ \(context c\) refused our credentials \(HTTP 401\)/)
    assert.equal(authorization, 'Bearer secret')
  })

  it('names the contexts there are when --context is unknown', async () => {
    await assert.rejects(loadKubeConfig({kubeconfig: await kubeconfigFor('http://127.0.0.1:1', 'only'), context: 'other'}), (error: unknown) => {
      assert.ok(error instanceof ClusterUnreachableError)
      assert.match(error.message, /the context "other" is not in the kubeconfig/)
      assert.deepEqual(error.suggestions, ['use one of: only'])
      return true
    })
  })
})
