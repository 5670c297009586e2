import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {ClusterUnreachableError} from '../../src/core/errors.js'
import {Credentials} from '../../src/core/kube/credentials.js'
import {loadKubeConfig} from '../../src/core/kube/kubeconfig.js'

describe('loading a kubeconfig without the Kubernetes client', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dappmesh-kc-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('merges $KUBECONFIG files as kubectl does (the first to name an entry wins) and makes relative files absolute', async () => {
    mkdirSync(path.join(dir, 'a'))
    mkdirSync(path.join(dir, 'b'))
    const a = path.join(dir, 'a', 'config')
    const b = path.join(dir, 'b', 'config')
    writeFileSync(a, 'contexts: [{name: dev, context: {cluster: k, user: u, namespace: team}}]\ncurrent-context: dev\nclusters: [{name: k, cluster: {server: "https://first:6443", certificate-authority: ca.crt}}]\n')
    writeFileSync(b, 'current-context: other\nclusters: [{name: k, cluster: {server: "https://second:6443"}}]\nusers: [{name: u, user: {client-certificate: u.crt, client-key: u.key, tokenFile: token}}]\n')
    const loaded = await loadKubeConfig({}, {KUBECONFIG: `${a}${path.delimiter}${b}`})
    assert.equal(loaded.context, 'dev')
    assert.equal(loaded.server, 'https://first:6443')
    assert.equal(loaded.namespace, 'team')
    assert.equal(loaded.cluster['certificate-authority'], path.join(dir, 'a', 'ca.crt'))
    assert.equal(loaded.user['client-certificate'], path.join(dir, 'b', 'u.crt'))
    assert.equal(loaded.user.tokenFile, path.join(dir, 'b', 'token'))
  })

  it('says what is wrong with a context whose cluster is missing (exit 3)', async () => {
    const file = path.join(dir, 'config')
    writeFileSync(file, 'contexts: [{name: dev, context: {cluster: gone, user: u}}]\ncurrent-context: dev\n')
    await assert.rejects(loadKubeConfig({kubeconfig: file}), (error: unknown) => error instanceof ClusterUnreachableError && /context dev names cluster "gone"/.test(error.message))
  })

  it('refuses a file that is not a kubeconfig, naming it', async () => {
    const file = path.join(dir, 'config')
    writeFileSync(file, '- just\n- a list\n')
    await assert.rejects(loadKubeConfig({kubeconfig: file}), /cannot read the kubeconfig .*config: not a mapping/)
  })

  it('sends impersonation headers and basic auth from the user entry', async () => {
    const credentials = new Credentials({context: 'c', user: {username: 'ann', password: 'pw', as: 'bob', 'as-groups': ['x', 'y']}})
    const {headers} = await credentials.authenticate()
    assert.equal(headers.authorization, `Basic ${Buffer.from('ann:pw').toString('base64')}`)
    assert.equal(headers['impersonate-user'], 'bob')
    assert.deepEqual(headers['impersonate-group'], ['x', 'y'])
  })

  it('refuses removed auth providers with what to use instead', () => {
    assert.throws(() => new Credentials({context: 'c', user: {'auth-provider': {name: 'gcp'}}}), /auth-provider "gcp" is not supported.*/)
  })

  it('reports an exec plugin that fails with its own message (exit 3)', async () => {
    const credentials = new Credentials({context: 'c', user: {exec: {command: 'sh', args: ['-c', 'echo not logged in >&2; exit 1']}}})
    await assert.rejects(credentials.authenticate(), (error: unknown) => error instanceof ClusterUnreachableError && error.exit === 3 && /the credential plugin sh failed: not logged in/.test(error.message))
  })
})
