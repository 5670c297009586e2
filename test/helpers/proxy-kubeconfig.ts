import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'

import {loadKubeConfig} from '../../src/core/kube/kubeconfig.js'
import {cli} from './cli.js'
import {type ProductCopy, orderProduct} from './product.js'
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

/**
 * examples/orders applied (by the cluster's admin) to a namespace of its own, for an operator that
 * reaches the API server through a proxy (proxiedServiceAccount: its kubeconfig at `file`, its
 * ServiceAccount in `accountNamespace`, made here). `remove` deletes all of it but the proxy,
 * which the caller closes when its operator allows.
 */
export async function proxiedOrderProduct(kubeconfig: string, prefix: string, accountNamespace: string, file: string): Promise<{product: ProductCopy; proxy: HttpProxy; remove: () => void}> {
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
  const product = orderProduct(prefix)
  // The proxy forwards the operator's requests with their bearer token: a ServiceAccount's.
  const {proxy, remove: removeBinding} = await proxiedServiceAccount(kubeconfig, accountNamespace, file)
  const remove = () => {
    try {
      kubectl('patch', 'dataproduct', 'orders', '-n', product.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}')
    } catch {
      // not there
    }
    try {
      removeBinding()
      kubectl('delete', 'namespace', product.namespace, accountNamespace, '--wait=false', '--ignore-not-found')
      kubectl('delete', 'datadomain', product.domain, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
    product.remove()
  }
  const applied = cli(['apply', product.dir, '--kubeconfig', kubeconfig], {timeout: 120_000})
  if (applied.code !== 0) {
    remove()
    await proxy.close()
    throw new Error(`apply of examples/orders failed: ${applied.stderr}`)
  }
  return {product, proxy, remove}
}
