import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {ROOT} from './cli.js'
import {requireCluster} from './cluster.js'

export interface ProductCopy {
  dir: string
  domain: string
  namespace: string
  remove: () => void
  edit: (file: string, change: (text: string) => string) => void
}

/**
 * A private copy of examples/orders whose DataDomain and namespace are unique, so tests that
 * apply products to the shared test cluster never touch each other's objects.
 */
export function orderProduct(prefix = 't'): ProductCopy {
  const id = `${prefix}-${randomBytes(3).toString('hex')}`
  const base = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-product-'))
  const dir = path.join(base, 'orders')
  cpSync(path.join(ROOT, 'examples/orders'), dir, {recursive: true})
  const edit = (file: string, change: (text: string) => string) => {
    const full = path.join(dir, file)
    const before = readFileSync(full, 'utf8')
    const after = change(before)
    if (after === before) throw new Error(`edit of ${file} changed nothing`)
    writeFileSync(full, after)
  }
  edit('mesh/domain.yaml', (t) => t.replace('name: sales', `name: ${id}`).replace('namespace: sales', `namespace: ${id}`))
  edit('dappmesh.yaml', (t) => t.replace('domain: sales', `domain: ${id}`))
  edit('mesh/roles.yaml', (t) => t.replace('namespace: sales', `namespace: ${id}`))
  return {dir, domain: id, namespace: id, edit, remove: () => rmSync(base, {recursive: true, force: true})}
}

export interface ClusterProducts {
  /** The shared test cluster's kubeconfig (set once the suite's `before` ran). */
  readonly kubeconfig: string
  kubectl: (...args: string[]) => string
  /** A new private copy of examples/orders, removed with its namespace and domain after the suite. */
  fresh: () => ProductCopy
}

/**
 * For an integration suite that applies products: call it inside `describe`. It registers a
 * `before` that waits for the shared test cluster and an `after` that removes every copy made.
 */
export function productsOnCluster(prefix = 't'): ClusterProducts {
  let kubeconfig = ''
  const products: ProductCopy[] = []
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  before(async function () {
    kubeconfig = await requireCluster(this)
  })
  after(() => {
    for (const p of products) {
      try {
        kubectl('delete', 'namespace', p.namespace, '--wait=false', '--ignore-not-found')
        kubectl('delete', 'datadomain', p.domain, '--ignore-not-found')
      } catch {
        // the cluster goes away at the end of the run anyway
      }
      p.remove()
    }
  })
  return {
    get kubeconfig() {
      return kubeconfig
    },
    kubectl,
    fresh: () => {
      const p = orderProduct(prefix)
      products.push(p)
      return p
    },
  }
}
