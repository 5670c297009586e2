import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {type Server, type Socket, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {requestTimeoutMs} from '../../src/core/kube/rest.js'
import {STACK_TRACE, cli} from '../helpers/cli.js'

describe('a request to an API server that accepts and never answers', () => {
  let dir: string
  let kubeconfig: string
  let server: Server
  const sockets = new Set<Socket>()

  before(async () => {
    // Accepts every connection, reads nothing, answers nothing (not even the TLS handshake).
    server = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as {port: number}
    dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-silent-'))
    kubeconfig = path.join(dir, 'kubeconfig')
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: silent, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: silent, user: {token: abc}}]\ncontexts: [{name: silent, context: {cluster: silent, user: silent}}]\ncurrent-context: silent\n`,
    )
  })

  after(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
    await rm(dir, {recursive: true, force: true})
  })

  it('fails status with exit 3 within the request timeout, saying the server did not answer', () => {
    const started = Date.now()
    const result = cli(['status', 'orders', '-n', 'sales', '--kubeconfig', kubeconfig], {env: {DAPPMESH_REQUEST_TIMEOUT: '1'}, timeout: 30_000})
    const seconds = (Date.now() - started) / 1000
    assert.equal(result.code, 3, result.stdout + result.stderr)
    // oclif wraps the message: read it as one line.
    const said = result.stderr.replaceAll(/\s*›\s*/g, ' ').replaceAll(/\s+/g, ' ')
    assert.match(said, /cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:\d+ \(context silent\): no answer within 1s \(set DAPPMESH_REQUEST_TIMEOUT to wait longer\)/)
    assert.doesNotMatch(result.stderr, STACK_TRACE)
    // Start-up plus one second of silence: far below what a hang would take.
    assert.ok(seconds < 20, `took ${seconds}s`)
  })

  it('waits 30 seconds by default, and DAPPMESH_REQUEST_TIMEOUT seconds when set', () => {
    assert.equal(requestTimeoutMs({}), 30_000)
    assert.equal(requestTimeoutMs({DAPPMESH_REQUEST_TIMEOUT: '5'}), 5000)
    assert.equal(requestTimeoutMs({DAPPMESH_REQUEST_TIMEOUT: 'soon'}), 30_000, 'nonsense keeps the default')
  })
})
