import type {Project} from '../../project/load.js'
import type {Finding} from '../finding.js'

/** Kinds only the platform project applies; a product project holds a read-only copy of its own. */
export const PLATFORM_KINDS = ['DataMesh', 'DataDomain'] as const

/** A project of a mesh and its domains and nothing else (no DataProduct and no product-scoped resource). */
export function isPlatformProject(project: Project): boolean {
  const kinds = new Set(project.resources.map((r) => r.kind))
  return kinds.size > 0 && [...kinds].every((k) => (PLATFORM_KINDS as readonly string[]).includes(k))
}

/**
 * `project`: a project is exactly one data product, or a platform project (a mesh and its domains). With none (an empty directory, the wrong
 * directory, a repository root above the product) nothing would be validated, rendered or
 * applied, and "valid" would be a lie; with two, render and apply could not tell which to install.
 */
export function checkOneProduct(project: Project): Finding[] {
  const products = project.resources.filter((r) => r.kind === 'DataProduct')
  const names = [...new Set(products.map((p) => p.name))]
  if (names.length === 0) {
    // A file that could not be read may well be the product's: its own finding says what to fix.
    if (project.findings.some((f) => f.rule === 'yaml' && f.severity === 'error')) return []
    // The platform's project (`dappmesh init mesh`): the mesh and its domains, which it alone applies.
    if (isPlatformProject(project)) return []
    const found = project.resources.length > 0 ? `${project.resources.length} other dappmesh resources` : project.skipped > 0 ? `only ${project.skipped} YAML documents of other tools` : 'no dappmesh resources'
    return [
      {
        file: 'dappmesh.yaml',
        line: 1,
        column: 1,
        path: '',
        rule: 'project',
        severity: 'error',
        message: `no DataProduct in ${project.root} (found ${found}); pass the directory that holds the product's dappmesh.yaml, or run dappmesh init to make one (or dappmesh init mesh for a platform project of a mesh and its domains)`,
      },
    ]
  }
  if (names.length === 1) return []
  // Every product after the first by file is reported where it is named, so an editor can jump to it.
  const firsts = names.map((name) => products.find((p) => p.name === name)!)
  return firsts.slice(1).map((p) =>
    p.source.finding(['metadata', 'name'], {
      rule: 'project',
      severity: 'error',
      kind: 'DataProduct',
      name: p.name,
      message: `a second DataProduct (${names.join(', ')} are all in this project); a project is one product: move each into its own directory`,
    }),
  )
}
