import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {doctorReportSchema} from '../../src/core/doctor/result-schema.js'
import {compile} from '../../src/core/validate/ajv.js'
import {cli, STACK_TRACE} from '../helpers/cli.js'

/** A loopback port that nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('doctor against an unreachable server', () => {
  let dir: string
  let kubeconfig: string
  let server: string

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-doctor-'))
    kubeconfig = path.join(dir, 'kubeconfig')
    server = `https://127.0.0.1:${await closedPort()}`
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: gone, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]\nusers: [{name: gone, user: {token: abc}}]\ncontexts: [{name: gone, context: {cluster: gone, user: gone}}]\ncurrent-context: gone\n`,
    )
  })

  after(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('exits 3, names the server, skips the cluster checks and says what to check', () => {
    const result = cli(['doctor', '--kubeconfig', kubeconfig])
    assert.equal(result.code, 3, result.stdout + result.stderr)
    assert.ok(result.stdout.includes(`[FAIL] Kubernetes context: cannot reach the Kubernetes API server at ${server} (context gone): connection refused`), result.stdout)
    assert.match(result.stdout, /fix: check that the cluster is running/)
    assert.match(result.stdout, /\[skip\] dappmesh CRDs/)
    assert.doesNotMatch(result.stdout + result.stderr, STACK_TRACE)
  })

  it('reports the same as JSON with exitCode 3', () => {
    const result = cli(['doctor', '--kubeconfig', kubeconfig, '--json'])
    assert.equal(result.code, 3)
    const report = JSON.parse(result.stdout)
    const valid = compile(doctorReportSchema)
    assert.equal(valid(report), true, JSON.stringify(valid.errors))
    assert.equal(report.ok, false)
    assert.equal(report.exitCode, 3)
    const context = report.checks.find((check: any) => check.id === 'kube-context')
    assert.equal(context.status, 'fail')
    assert.ok(context.message.includes(server))
  })

  it('exits 3 when the kubeconfig file does not exist', () => {
    const result = cli(['doctor', '--kubeconfig', path.join(dir, 'missing')])
    assert.equal(result.code, 3)
    assert.match(result.stdout, /the kubeconfig \S+missing does not exist/)
  })
})
