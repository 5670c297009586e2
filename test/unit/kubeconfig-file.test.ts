import assert from 'node:assert/strict'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {parse} from 'yaml'

import {defaultKubeconfigPath, extractEntries, mergeIntoKubeconfig, removeFromKubeconfig} from '../../src/core/kube/kubeconfig-file.js'

describe('kubeconfig files', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-kc-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('writes to the first file of $KUBECONFIG, else ~/.kube/config', () => {
    assert.equal(defaultKubeconfigPath({KUBECONFIG: `/a/one${path.delimiter}/b/two`}), '/a/one')
    assert.match(defaultKubeconfigPath({}), /\.kube\/config$/)
  })

  it('inlines certificate files so a merged entry works anywhere', async () => {
    await writeFile(path.join(dir, 'ca.crt'), 'CA')
    await writeFile(path.join(dir, 'admin.crt'), 'CERT')
    const source = {
      clusters: [{name: 'kwok-x', cluster: {server: 'https://127.0.0.1:1234', 'certificate-authority': path.join(dir, 'ca.crt')}}],
      users: [{name: 'kwok-x', user: {'client-certificate': 'admin.crt', 'client-key-data': 'S0VZ'}}],
      contexts: [{name: 'kwok-x', context: {cluster: 'kwok-x', user: 'kwok-x'}}],
      'current-context': 'kwok-x',
    }
    const entries = await extractEntries(source, 'dappmesh-x', dir)
    assert.equal(entries.server, 'https://127.0.0.1:1234')
    assert.deepEqual(entries.cluster, {server: 'https://127.0.0.1:1234', 'certificate-authority-data': Buffer.from('CA').toString('base64')})
    assert.deepEqual(entries.user, {'client-key-data': 'S0VZ', 'client-certificate-data': Buffer.from('CERT').toString('base64')})
  })

  it('merges a context beside existing ones, makes it current, and keeps other entries as they were', async () => {
    const file = path.join(dir, 'config')
    await writeFile(file, 'apiVersion: v1\nkind: Config\npreferences: {colors: true}\nclusters: [{name: other, cluster: {server: "https://10.0.0.1"}}]\nusers: [{name: other, user: {exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}}}]\ncontexts: [{name: other, context: {cluster: other, user: other}}]\ncurrent-context: other\n')
    await mergeIntoKubeconfig(file, 'dappmesh-dev', {cluster: {server: 'https://127.0.0.1:5555'}, user: {token: 't'}})
    await mergeIntoKubeconfig(file, 'dappmesh-dev', {cluster: {server: 'https://127.0.0.1:6666'}, user: {token: 'u'}})
    const merged = parse(await readFile(file, 'utf8'))
    assert.equal(merged['current-context'], 'dappmesh-dev')
    assert.deepEqual(merged.preferences, {colors: true})
    assert.deepEqual(merged.clusters.map((c: any) => [c.name, c.cluster.server]), [['other', 'https://10.0.0.1'], ['dappmesh-dev', 'https://127.0.0.1:6666']])
    assert.equal(merged.users[0].user.exec.command, 'aws')
    assert.equal((await stat(file)).mode & 0o777, 0o600)

    assert.equal(await removeFromKubeconfig(file, 'dappmesh-dev'), true)
    const removed = parse(await readFile(file, 'utf8'))
    assert.deepEqual(removed.contexts.map((c: any) => c.name), ['other'])
    assert.equal(removed['current-context'], '')
    assert.equal(await removeFromKubeconfig(file, 'dappmesh-dev'), false)
  })

  it('creates the file and its directory when they do not exist', async () => {
    const file = path.join(dir, 'new', 'config')
    await mergeIntoKubeconfig(file, 'dappmesh-a', {cluster: {server: 'https://127.0.0.1:1'}, user: {}})
    const created = parse(await readFile(file, 'utf8'))
    assert.equal(created.kind, 'Config')
    assert.deepEqual(created.contexts, [{name: 'dappmesh-a', context: {cluster: 'dappmesh-a', user: 'dappmesh-a'}}])
  })
})
