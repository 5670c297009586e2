/**
 * `dappmesh init mesh`: the platform project, which owns what every product shares: the DataMesh
 * (governance) and the DataDomains (owners and namespaces). Product projects only carry a copy
 * of them; applying a product never changes them once they exist, applying this project does.
 */
import path from 'node:path'

import {UsageError} from '../errors.js'
import {type ContractSpecification, checkDomain, checkMesh, checkOwner} from './answers.js'
import type {PlannedFile} from './builders.js'
import {checkTarget} from './init.js'
import type {InitResult} from './result-schema.js'
import {readTemplate, renderYaml} from './template.js'
import {writeTree} from './write-tree.js'

export interface PlatformAnswers {
  mesh: string
  domains: string[]
  owner: string
  contractSpecification: ContractSpecification
}

/** Refuses flags that would make an invalid project, as a usage error (exit 2) naming the flag. */
export function checkPlatformAnswers(answers: PlatformAnswers): void {
  const problems = [
    ['mesh', checkMesh(answers.mesh)],
    ['owner', checkOwner(answers.owner)],
    ...answers.domains.map((d) => ['domain', checkDomain(d)]),
    ['domain', answers.domains.length === 0 ? 'give at least one domain' : undefined],
    ['domain', new Set(answers.domains).size === answers.domains.length ? undefined : `a domain is named twice (${answers.domains.join(', ')})`],
  ].filter((p): p is [string, string] => p[1] !== undefined)
  if (problems.length > 0) throw new UsageError(`--${problems[0][0]}: ${problems[0][1]}`)
}

export async function planPlatform(answers: PlatformAnswers): Promise<PlannedFile[]> {
  const files: PlannedFile[] = [{path: 'mesh.yaml', content: renderYaml(await readTemplate('platform/mesh.yaml'), {mesh: answers.mesh, contractSpecification: answers.contractSpecification}, 'platform/mesh.yaml')}]
  const domain = await readTemplate('platform/domain.yaml')
  for (const name of answers.domains) {
    files.push({path: `domains/${name}.yaml`, content: renderYaml(domain, {mesh: answers.mesh, domain: name, owner: answers.owner}, 'platform/domain.yaml')})
  }
  return files
}

export async function initPlatform(dir: string, answers: PlatformAnswers, options: {force?: boolean} = {}): Promise<InitResult> {
  checkPlatformAnswers(answers)
  await checkTarget(dir, options)
  const written = await writeTree(dir, await planPlatform(answers), {overwrite: options.force})
  return {dir: path.resolve(dir), files: written}
}
