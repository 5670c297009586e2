// Copies of examples/orders for the cluster benchmarks: by default each in its own domain and
// namespace; with `perDomain` > 1, that many products share each domain (the product renamed
// orders-000, orders-001, …; its resources keep their local names, which the cluster qualifies by product).
import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

/** `count` copies under `dir`, named <prefix>-000, <prefix>-001, …; returns their directories. */
export function orderCopies(root, dir, prefix, count, perDomain = 1) {
  const dirs = []
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${String(i).padStart(3, '0')}`
    const domain = perDomain > 1 ? `${prefix}-d${String(Math.floor(i / perDomain)).padStart(3, '0')}` : id
    const copy = path.join(dir, id)
    cpSync(path.join(root, 'examples/orders'), copy, {recursive: true})
    const edit = (file, change) => writeFileSync(path.join(copy, file), change(readFileSync(path.join(copy, file), 'utf8')))
    edit('mesh/domain.yaml', (t) => t.replace('name: sales', `name: ${domain}`).replace('namespace: sales', `namespace: ${domain}`))
    edit('dappmesh.yaml', (t) => t.replace('domain: sales', `domain: ${domain}`))
    if (perDomain > 1) edit('dappmesh.yaml', (t) => t.replace(/^ {2}name: orders$/m, `  name: orders-${String(i).padStart(3, '0')}`))
    edit('mesh/roles.yaml', (t) => t.replace('namespace: sales', `namespace: ${domain}`))
    dirs.push(copy)
  }
  return dirs
}
