import {RULES} from '../finding.js'
import type {ValidationResult} from '../validate.js'

const DESCRIPTIONS: Record<(typeof RULES)[number], string> = {
  yaml: 'The file is not parseable YAML, or has a duplicate key.',
  'unknown-kind': 'The document\'s apiVersion/kind is not a dappmesh kind.',
  schema: 'The resource violates its kind\'s JSON Schema.',
  naming: 'The name is not a DNS-1123 label.',
  duplicate: 'Two resources of one kind have one name.',
  ref: 'A reference resolves to nothing.',
  cycle: 'A flow\'s transitions or a workflow\'s dependencies form a cycle.',
  contract: 'A contract document is invalid, or disagrees with its bound schema state.',
  breaking: 'A schema version is incompatible with the previous one without a major version bump.',
  governance: 'A policy of the mesh is broken.',
  sql: 'A transition\'s SQL does not parse or bind in DuckDB against its input states, or its result columns are not the target state\'s fields.',
  storage: 'A flow\'s states would live in a storage engine that has no driver yet.',
  project: 'The directory does not hold exactly one DataProduct.',
}

/** SARIF 2.1.0, as code-scanning services read it. */
export function formatSarif(result: ValidationResult, version: string): string {
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'dappmesh',
            version,
            informationUri: 'https://dappmesh.io',
            rules: RULES.map((id) => ({id, shortDescription: {text: DESCRIPTIONS[id]}})),
          },
        },
        results: result.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: RULES.indexOf(f.rule),
          level: f.severity === 'error' ? 'error' : 'warning',
          message: {text: f.message},
          locations: [{physicalLocation: {artifactLocation: {uri: f.file}, region: {startLine: f.line, startColumn: f.column}}}],
          properties: {kind: f.kind, name: f.name, path: f.path},
        })),
      },
    ],
  }
  return JSON.stringify(sarif, null, 2)
}
