import type {Project} from '../../project/load.js'
import type {Finding} from '../finding.js'

/**
 * `project`: a project is exactly one data product. With none (an empty directory, the wrong
 * directory, a repository root above the product) nothing would be validated, rendered or
 * applied, and "valid" would be a lie; with two, render and apply could not tell which to install.
 */
export function checkOneProduct(project: Project): Finding[] {
  const products = project.resources.filter((r) => r.kind === 'DataProduct')
  const names = [...new Set(products.map((p) => p.name))]
  if (names.length === 0) {
    // A file that could not be read may well be the product's: its own finding says what to fix.
    if (project.findings.some((f) => f.rule === 'yaml' && f.severity === 'error')) return []
    const found = project.resources.length > 0 ? `${project.resources.length} other dappmesh resources` : project.skipped > 0 ? `only ${project.skipped} YAML documents of other tools` : 'no dappmesh resources'
    return [
      {
        file: 'dappmesh.yaml',
        line: 1,
        column: 1,
        path: '',
        rule: 'project',
        severity: 'error',
        message: `no DataProduct in ${project.root} (found ${found}); pass the directory that holds the product's dappmesh.yaml, or run dappmesh init to make one`,
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
