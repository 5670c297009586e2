// Copies of examples/orders for the cluster benchmarks, each in its own domain and namespace.
import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

/** `count` copies under `dir`, named <prefix>-000, <prefix>-001, …; returns their directories. */
export function orderCopies(root, dir, prefix, count) {
  const dirs = []
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${String(i).padStart(3, '0')}`
    const copy = path.join(dir, id)
    cpSync(path.join(root, 'examples/orders'), copy, {recursive: true})
    const edit = (file, change) => writeFileSync(path.join(copy, file), change(readFileSync(path.join(copy, file), 'utf8')))
    edit('mesh/domain.yaml', (t) => t.replace('name: sales', `name: ${id}`).replace('namespace: sales', `namespace: ${id}`))
    edit('dappmesh.yaml', (t) => t.replace('domain: sales', `domain: ${id}`))
    edit('mesh/roles.yaml', (t) => t.replace('namespace: sales', `namespace: ${id}`))
    dirs.push(copy)
  }
  return dirs
}
