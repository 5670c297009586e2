import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {ClusterUnreachableError} from '../../src/core/errors.js'
import {type LoadedKubeConfig, loadKubeConfig} from '../../src/core/kube/kubeconfig.js'
import type {KubeObject} from '../../src/core/kube/objects.js'
import {KubeRest} from '../../src/core/kube/rest.js'
import {Informer} from '../../src/core/reconcile/informer.js'
import {createTestNamespace, requireCluster} from '../helpers/cluster.js'
import {tcpProxy} from '../helpers/proxies.js'

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('the kube client against a real API server', function () {
  let kubeconfig: string
  let loaded: LoadedKubeConfig
  let namespace: {name: string; remove: () => Promise<void>}
  let dir: string
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
  const configmaps = () => `/api/v1/namespaces/${namespace.name}/configmaps`

  before(async function () {
    kubeconfig = await requireCluster(this)
    loaded = await loadKubeConfig({kubeconfig})
    namespace = await createTestNamespace(kubeconfig, 'client')
    dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-client-'))
    kubectl('create', 'serviceaccount', 'reader', '-n', namespace.name)
    kubectl('create', 'rolebinding', 'reader', '--clusterrole=view', `--serviceaccount=${namespace.name}:reader`, '-n', namespace.name)
  })

  after(async () => {
    await namespace?.remove()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  /** A ServiceAccount token that stays valid exactly as long as the Secret it is bound to exists. */
  function boundToken(secret: string): string {
    kubectl('create', 'secret', 'generic', secret, '-n', namespace.name)
    return kubectl('create', 'token', 'reader', '-n', namespace.name, '--bound-object-kind', 'Secret', '--bound-object-name', secret, '--duration', '1h')
  }

  /** Deletes the Secret a token is bound to and waits until the API server refuses the token. */
  async function revoke(secret: string, token: string): Promise<void> {
    kubectl('delete', 'secret', secret, '-n', namespace.name)
    const probe = await KubeRest.create({...loaded, user: {token}})
    try {
      // The API server caches a token's authentication for a few seconds.
      await until(
        () =>
          probe.list(configmaps()).then(
            () => false,
            (error: unknown) => error instanceof ClusterUnreachableError && /refused our credentials \(HTTP 401\)/.test(error.message),
          ),
        'the revoked token being refused',
        40_000,
      )
    } finally {
      probe.close()
    }
  }

  it('restarts a watch that falls silent (a stalled connection) from its resourceVersion, and sees what changed meanwhile', async () => {
    const target = new URL(loaded.server)
    const proxy = await tcpProxy({host: target.hostname, port: Number(target.port)})
    const rest = await KubeRest.create({...loaded, server: `${target.protocol}//127.0.0.1:${proxy.port}`})
    const abort = new AbortController()
    const informer = new Informer(rest, {path: configmaps(), idleTimeoutMs: 2000, baseBackoffMs: 50})
    const running = informer.run(abort.signal)
    try {
      await informer.synced
      kubectl('create', 'configmap', 'before-stall', '-n', namespace.name)
      await until(() => informer.get(`${namespace.name}/before-stall`) !== undefined, 'the first ConfigMap reaching the cache')
      proxy.stall()
      kubectl('create', 'configmap', 'during-stall', '-n', namespace.name)
      await until(() => informer.get(`${namespace.name}/during-stall`) !== undefined, 'the ConfigMap made during the stall reaching the cache', 20_000)
      assert.ok(informer.idleRestarts >= 1, 'the silent watch was restarted')
      assert.equal(informer.lists, 1, 'resumed from its resourceVersion: no relist')
    } finally {
      abort.abort()
      await running
      rest.close()
      await proxy.close()
    }
  })

  it('reads watch events whole, an object of several hundred KiB spanning many chunks among small ones', async () => {
    const rest = await KubeRest.create(loaded)
    const abort = new AbortController()
    const seen: Array<[string, number]> = []
    // From a list's resourceVersion: the events then come in the order the objects were made.
    const {resourceVersion} = (await rest.list(configmaps())).metadata
    const watching = rest.watch<KubeObject & {data?: Record<string, string>}>(configmaps(), {resourceVersion}, (event) => {
      if (event.type === 'ADDED' && event.object.metadata.name.startsWith('chunks-')) seen.push([event.object.metadata.name, event.object.data?.big?.length ?? 0])
    }, abort.signal)
    try {
      const big = 'é'.repeat(300_000) // two bytes each in UTF-8: a character may be split between chunks
      const file = path.join(dir, 'big.txt')
      writeFileSync(file, big)
      kubectl('create', 'configmap', 'chunks-small-1', '-n', namespace.name)
      kubectl('create', 'configmap', 'chunks-big', '-n', namespace.name, `--from-file=big=${file}`)
      kubectl('create', 'configmap', 'chunks-small-2', '-n', namespace.name)
      await until(() => seen.length === 3, 'three ADDED events')
      assert.deepEqual(seen, [['chunks-small-1', 0], ['chunks-big', 300_000], ['chunks-small-2', 0]])
    } finally {
      abort.abort()
      await watching
      rest.close()
    }
  })

  it("counts a watch's connection apart from the requests' cap: at a cap of one, a list is answered while a watch runs", async () => {
    const rest = await KubeRest.create(loaded, {maxSockets: 1})
    const abort = new AbortController()
    const seen: string[] = []
    try {
      const {resourceVersion} = (await rest.list(configmaps())).metadata
      const watching = rest.watch(configmaps(), {resourceVersion}, (event) => {
        seen.push(event.object.metadata.name)
      }, abort.signal)
      kubectl('create', 'configmap', 'cap-watched', '-n', namespace.name)
      await until(() => seen.includes('cap-watched'), 'the watch to run')
      const listed = await rest.list(configmaps())
      assert.ok(listed.items.some((item) => item.metadata.name === 'cap-watched'))
      assert.deepEqual(rest.connections, {watches: 1, requests: 1})
      abort.abort()
      await watching
      assert.equal(rest.connections.watches, 0)
    } finally {
      abort.abort()
      rest.close()
    }
  })

  it('sends queries that need encoding (selectors with spaces, commas, parentheses) and adds to a query already in the path', async () => {
    for (const [name, tier] of [['enc-a', 'gold'], ['enc-b', 'silver'], ['enc-c', 'bronze']]) {
      kubectl('create', 'configmap', name, '-n', namespace.name)
      kubectl('label', 'configmap', name, '-n', namespace.name, `tier=${tier}`)
    }
    const rest = await KubeRest.create(loaded)
    try {
      const names = (list: {items: KubeObject[]}) => list.items.map((item) => item.metadata.name).sort()
      assert.deepEqual(names(await rest.list(configmaps(), {labelSelector: 'tier in (gold, silver),tier!=silver'})), ['enc-a'])
      assert.deepEqual(names(await rest.get<{items: KubeObject[]}>(`${configmaps()}?labelSelector=tier`, {fieldSelector: 'metadata.name!=enc-b'})), ['enc-a', 'enc-c'])
    } finally {
      rest.close()
    }
  })

  it('ends a watch whose event handler throws with that error, and closes its stream', async () => {
    const rest = await KubeRest.create(loaded)
    const abort = new AbortController()
    try {
      const {resourceVersion} = (await rest.list(configmaps())).metadata
      const watching = rest.watch(configmaps(), {resourceVersion}, () => {
        throw new Error('the handler failed')
      }, abort.signal)
      kubectl('create', 'configmap', 'handler-fails', '-n', namespace.name)
      await assert.rejects(watching, /the handler failed/)
    } finally {
      abort.abort()
      rest.close()
    }
  })

  it('authenticates with a client certificate an exec plugin hands out, and again after it renews it', async () => {
    const pem = async (data: string | undefined, file: string | undefined) => (data ? Buffer.from(data, 'base64').toString('utf8') : readFile(file!, 'utf8'))
    const cert = await pem(loaded.user['client-certificate-data'], loaded.user['client-certificate'])
    const key = await pem(loaded.user['client-key-data'], loaded.user['client-key'])
    const credential = path.join(dir, 'cert-credential.json')
    // Renewed 10 s before it expires: good for about 1 s.
    writeFileSync(credential, JSON.stringify({apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {clientCertificateData: cert, clientKeyData: key, expirationTimestamp: new Date(Date.now() + 11_000).toISOString()}}))
    const rest = await KubeRest.create({...loaded, user: {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: 'cat', args: [credential]}}})
    try {
      assert.ok(Array.isArray((await rest.list(configmaps())).items))
      await new Promise((resolve) => setTimeout(resolve, 1500))
      assert.ok(Array.isArray((await rest.list(configmaps())).items))
      assert.equal(rest.credentials.execRuns, 2)
    } finally {
      rest.close()
    }
  })

  it('re-reads a rotated token file after a 401 and retries once, with the same client', async () => {
    const first = boundToken('token-a')
    const second = boundToken('token-b')
    const file = path.join(dir, 'token')
    writeFileSync(file, first)
    const rest = await KubeRest.create({...loaded, user: {tokenFile: file}})
    try {
      await rest.list(configmaps())
      // Rotated in place with the old modification time, so only the 401 can tell the client.
      const {atime, mtime} = statSync(file)
      writeFileSync(file, second)
      utimesSync(file, atime, mtime)
      await revoke('token-a', first)
      const list = await rest.list(configmaps())
      assert.ok(Array.isArray(list.items))
    } finally {
      rest.close()
    }
  })

  it('runs an exec credential plugin once per credential, again when it expires, and again after a 401', async () => {
    const first = boundToken('exec-a')
    const second = boundToken('exec-b')
    const credential = path.join(dir, 'credential.json')
    const runs = path.join(dir, 'runs')
    writeFileSync(runs, '')
    const plugin = path.join(dir, 'plugin.sh')
    writeFileSync(plugin, `#!/bin/sh\necho run >> "$RUNS"\ncat "$CREDENTIAL"\n`)
    chmodSync(plugin, 0o755)
    const writeCredential = (token: string, expiresInMs?: number) =>
      writeFileSync(credential, JSON.stringify({apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {token, ...(expiresInMs ? {expirationTimestamp: new Date(Date.now() + expiresInMs).toISOString()} : {})}}))
    const runCount = async () => (await readFile(runs, 'utf8')).split('\n').filter(Boolean).length
    // Renewed 10 s before it expires: this one is good for about 1.5 s.
    writeCredential(first, 11_500)
    const rest = await KubeRest.create({
      ...loaded,
      user: {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: plugin, env: [{name: 'RUNS', value: runs}, {name: 'CREDENTIAL', value: credential}]}},
    })
    try {
      await rest.list(configmaps())
      await rest.list(configmaps())
      assert.equal(await runCount(), 1, 'a valid credential is reused')
      await new Promise((resolve) => setTimeout(resolve, 2000))
      writeCredential(first)
      await rest.list(configmaps())
      assert.equal(await runCount(), 2, 'an expired credential is renewed')
      writeCredential(second)
      await revoke('exec-a', first)
      await rest.list(configmaps())
      assert.equal(await runCount(), 3, 'a refused credential is renewed and the request retried')
    } finally {
      rest.close()
    }
  })
})
