import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'

import {loadKubeConfig} from '../../src/core/kube/kubeconfig.js'
import {type HttpProxy, httpProxy} from './proxies.js'

/**
 * An HTTP proxy to the test cluster's API server, and a kubeconfig at `file` that reaches it as a
 * cluster-admin ServiceAccount `operator` of `namespace` (made here): the proxy forwards bearer
 * tokens, whereas a client certificate would end at the proxy. `remove` deletes the binding (the
 * caller deletes the namespace with its other objects).
 */
export async function proxiedServiceAccount(kubeconfig: string, namespace: string, file: string): Promise<{proxy: HttpProxy; remove: () => void}> {
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
  const loaded = await loadKubeConfig({kubeconfig})
  const ca = loaded.cluster['certificate-authority-data'] ? Buffer.from(loaded.cluster['certificate-authority-data'], 'base64') : loaded.cluster['certificate-authority'] ? readFileSync(loaded.cluster['certificate-authority']) : undefined
  const proxy = await httpProxy({server: loaded.server, ca})
  kubectl('create', 'namespace', namespace)
  kubectl('create', 'serviceaccount', 'operator', '-n', namespace)
  kubectl('create', 'clusterrolebinding', `${namespace}-operator`, '--clusterrole=cluster-admin', `--serviceaccount=${namespace}:operator`)
  const token = kubectl('create', 'token', 'operator', '-n', namespace, '--duration', '1h')
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters: [{name: proxy, cluster: {server: "${proxy.url}"}}]\nusers: [{name: operator, user: {token: "${token}"}}]\ncontexts: [{name: proxy, context: {cluster: proxy, user: operator}}]\ncurrent-context: proxy\n`,
  )
  return {proxy, remove: () => kubectl('delete', 'clusterrolebinding', `${namespace}-operator`, '--ignore-not-found')}
}
