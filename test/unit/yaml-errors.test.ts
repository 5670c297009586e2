import assert from 'node:assert/strict'

import {parseYamlFile} from '../../src/core/project/source.js'

/** A contract of `fields` properties, each with a quoted description, after a description at line 5. */
function contract(purpose: string[], fields = 30): string {
  const lines = ['apiVersion: v3.0.0', 'kind: DataContract', 'id: urn:x', 'description:', ...purpose, '  usage: "dashboards"', 'schema:', '  - name: orders', '    properties:']
  for (let i = 0; i < fields; i++) lines.push(`      - name: f${i}`, '        logicalType: string', `        description: "field ${i}, quoted"`)
  lines.push('status: active', 'version: 1.0.0', '')
  return lines.join('\n')
}

function yamlFindings(text: string) {
  return parseYamlFile('contract.odcs.yaml', text).findings.map(({line, column, severity, message}) => ({line, column, severity, message}))
}

describe('YAML errors point at the first cause, once', () => {
  it('says that a quoted string continued on a line indented no deeper than its key must be indented deeper', () => {
    const findings = yamlFindings(contract(['  purpose: "Orders placed in the shop,', '  one row per order."']))
    assert.equal(findings.length, 1, JSON.stringify(findings, null, 1))
    assert.deepEqual({line: findings[0].line, column: findings[0].column, severity: findings[0].severity}, {line: 6, column: 3, severity: 'error'})
    assert.match(findings[0].message, /line 6 is indented no deeper than the key "purpose" \(line 5\).*indent the string's later lines deeper than "purpose"/)
  })

  it('reads the same string once it is indented deeper than its key', () => {
    assert.deepEqual(yamlFindings(contract(['  purpose: "Orders placed in the shop,', '    one row per order."'])), [])
  })

  it('points at the opening quote of a string that is never closed', () => {
    const findings = yamlFindings('a: 1\nb: "never closed\n  c: 2\nd: 3\n')
    assert.equal(findings.length, 1, JSON.stringify(findings, null, 1))
    assert.deepEqual({line: findings[0].line, column: findings[0].column}, {line: 2, column: 4})
    assert.match(findings[0].message, /quoted string that starts at line 2, column 4 is never closed; add the closing "/)
  })

  it('handles single-quoted strings and sequence items alike', () => {
    const findings = yamlFindings("a:\n  - x: 'it''s\n    y: 2\n")
    assert.equal(findings.length, 1, JSON.stringify(findings, null, 1))
    assert.equal(findings[0].line, 3)
    assert.match(findings[0].message, /no deeper than the key "x" \(line 2\)/)
  })

  it('reports one error for a mis-indented block, not every line it throws off', () => {
    const findings = yamlFindings('spec:\n  a: 1\n b: 2\n  c: 3\n d: 4\n')
    assert.equal(findings.length, 1, JSON.stringify(findings, null, 1))
    assert.equal(findings[0].line, 3)
  })

  it('still reports every duplicate key, each on its own', () => {
    const findings = yamlFindings('a: 1\nb: 2\na: 3\nb: 4\n')
    assert.deepEqual(findings.map((f) => [f.line, f.message]), [
      [3, 'duplicate key "a"; keep one of the two entries'],
      [4, 'duplicate key "b"; keep one of the two entries'],
    ])
  })
})
