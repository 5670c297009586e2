import {existsSync, statSync} from 'node:fs'
import path from 'node:path'

import {UsageError} from '../errors.js'
import {ROOT_MARKER, findProjectRoot} from '../scaffold/find-root.js'
import {loadProject} from './load.js'

/** Which product a cluster command is about: its name, and its namespace when known. */
export interface ProductRef {
  name: string
  namespace?: string
  /** the project directory it was read from, if any */
  dir?: string
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

/**
 * `status`/`delete` take a product name or a project directory, and default to the project
 * around the current directory. A project gives the name and the domain's namespace (read without
 * validating: a half-edited project must not stop anyone from looking at or removing what is
 * installed); `-n` overrides the namespace.
 */
export async function resolveProductRef(arg: string | undefined, options: {namespace?: string; cwd?: string} = {}): Promise<ProductRef> {
  const cwd = options.cwd ?? process.cwd()
  if (arg !== undefined) {
    const dir = path.resolve(cwd, arg)
    const isDir = existsSync(dir) && statSync(dir).isDirectory()
    if (isDir && existsSync(path.join(dir, ROOT_MARKER))) return fromProject(dir, options.namespace)
    if (isDir || arg.includes('/') || arg.includes(path.sep) || arg === '.' || arg === '..') {
      if (!isDir) throw new UsageError(`${arg}: no such directory`, ['Pass the directory of a data product (the one holding dappmesh.yaml), or a product name.'])
      throw new UsageError(`${arg} is not a dappmesh project: it has no ${ROOT_MARKER}`, ['Pass the directory of a data product, or a product name (with -n NAMESPACE).'])
    }
    if (!DNS_LABEL.test(arg)) throw new UsageError(`${arg} is not a product name (a DNS-1123 label) nor a directory`, ['Pass a product name such as orders, or the directory of a data product.'])
    return {name: arg, namespace: options.namespace}
  }
  const root = await findProjectRoot(cwd).catch(() => {
    throw new UsageError('no PRODUCT given, and the current directory is not inside a dappmesh project', [
      'Pass a product name (with -n NAMESPACE when several namespaces have one), or a project directory, or run this inside a project.',
    ])
  })
  return fromProject(root, options.namespace)
}

async function fromProject(dir: string, namespace: string | undefined): Promise<ProductRef> {
  const project = await loadProject(dir)
  const products = project.resources.filter((r) => r.kind === 'DataProduct' && !r.broken)
  if (products.length !== 1) {
    throw new UsageError(`${dir} has ${products.length === 0 ? 'no readable DataProduct' : `${products.length} DataProducts`}`, ['Keep exactly one DataProduct per project (in dappmesh.yaml), or pass the product name instead.'])
  }
  // Not validated yet: each field is checked before it is used.
  const product = products[0].object as {spec?: {domain?: unknown}} | undefined
  const domainName = typeof product?.spec?.domain === 'string' ? product.spec.domain : undefined
  const domain = project.resources.find((r) => r.kind === 'DataDomain' && r.name === domainName && !r.broken)?.object as {spec?: {namespace?: unknown}} | undefined
  const domainNamespace = typeof domain?.spec?.namespace === 'string' ? domain.spec.namespace : domain ? domainName : undefined
  return {name: products[0].name, namespace: namespace ?? domainNamespace, dir}
}
