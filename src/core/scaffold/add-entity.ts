/** `dappmesh add entity`: one more entity's model and services in an existing project. */
import {stat} from 'node:fs/promises'
import path from 'node:path'

import {UsageError, UserError} from '../errors.js'
import type {KindName} from '../model/types.js'
import {loadProject} from '../project/load.js'
import {STORAGE_CLASSES, type StorageClass, checkEntity} from './answers.js'
import {type StorageRef, outputPortName, planEntity, primaryStorage} from './builders.js'
import {findProjectRoot} from './find-root.js'
import {entityNames} from './names.js'
import type {AddEntityResult} from './result-schema.js'
import {writeTree} from './write-tree.js'

export type {AddEntityResult} from './result-schema.js'

export async function addEntity(start: string, name: string): Promise<AddEntityResult> {
  const problem = checkEntity(name)
  if (problem) throw new UsageError(`NAME: ${problem}`)
  const root = await findProjectRoot(start)
  const project = await loadProject(root)

  const product = project.resources.find((r) => r.kind === 'DataProduct' && !r.broken && r.source.file === 'dappmesh.yaml') ?? project.resources.find((r) => r.kind === 'DataProduct' && !r.broken)
  const spec = product?.object.spec as {domain?: unknown} | undefined
  if (!product || typeof spec?.domain !== 'string') {
    throw new UserError(`${path.join(root, 'dappmesh.yaml')} holds no readable DataProduct with a domain`, {suggestions: ['Run `dappmesh validate` to see what is wrong with it.']})
  }

  const storages: StorageRef[] = project.resources
    .filter((r) => r.kind === 'DataStorage' && !r.broken)
    .flatMap((r) => {
      const cls = (r.object.spec as {class?: unknown})?.class
      return STORAGE_CLASSES.includes(cls as StorageClass) ? [{name: r.name, class: cls as StorageClass}] : []
    })
  const storage = primaryStorage(storages)

  const names = entityNames(name)
  const wanted: Array<[KindName, string]> = [
    ['DataSchema', names.schema], ['DataFlow', names.flow], ['DataWorkflow', names.workflow], ['InputPort', names.input],
    ['OutputPort', outputPortName(name, storage)], ['DataContract', names.contract],
  ]
  const clashes: string[] = []
  for (const dir of [`model/${name}`, `services/${name}`, `tests/${name}`]) {
    if (await stat(path.join(root, dir)).catch(() => undefined)) clashes.push(`${dir}/ exists`)
  }
  for (const [kind, n] of wanted) {
    const found = project.resources.find((r) => r.kind === kind && r.name === n)
    if (found) clashes.push(`${kind} "${n}" is defined in ${found.source.file}`)
  }
  const sameEntity = project.resources.find((r) => r.kind === 'DataSchema' && !r.broken && (r.object.spec as {entity?: unknown})?.entity === name)
  if (sameEntity && !clashes.some((c) => c.includes(sameEntity.source.file))) clashes.push(`DataSchema "${sameEntity.name}" in ${sameEntity.source.file} declares entity ${name}`)
  if (clashes.length > 0) {
    throw new UserError(`entity "${name}" exists already in ${root}: ${clashes.join('; ')}`, {suggestions: ['Pick another name, or edit the existing entity\'s files.']})
  }

  const files = await planEntity(name, {product: product.name, domain: spec.domain, storage})
  const written = await writeTree(root, files)
  return {dir: root, entity: name, outputPort: outputPortName(name, storage), files: written}
}
