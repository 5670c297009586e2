import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type {Finding} from '../../src/core/validate/finding.js'
import {validateDirectory} from '../../src/core/validate/validate.js'
import {fixture} from '../helpers/cli.js'

/*
 * The `contract` rule on a whole project: a DataContract bound to items@1.0.0/clean (fields id:
 * string and price: decimal, both required) whose ODCS document lives in its own file.
 */
const CONTRACT = 'services/items/contracts.yaml'
const DOCUMENT = 'services/items/contract/items-clean.odcs.yaml'

function contract(specificationVersion: string): string {
  return `apiVersion: dappmesh.io/v1alpha1
kind: DataContract
metadata:
  name: items-clean
spec:
  specification: odcs
  specificationVersion: ${specificationVersion}
  schema: items@1.0.0/clean
  documentRef:
    path: contract/items-clean.odcs.yaml
`
}

function document(apiVersion: string, extra = '', properties = '      - {name: id, logicalType: string, required: true}\n      - {name: price, logicalType: number, required: true}\n'): string {
  return `apiVersion: ${apiVersion}
kind: DataContract
id: urn:shop:items-clean
version: 1.0.0
status: active
${extra}schema:
  - name: clean
    logicalType: object
    properties:
${properties}`
}

describe('validate: ODCS contract documents', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-contract-'))
    cpSync(fixture('validate', 'valid-document-ref'), dir, {recursive: true})
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  async function validate(files: Record<string, string>): Promise<Finding[]> {
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text)
    return (await validateDirectory(dir)).findings
  }

  it('locates a misspelt key three levels down in a documentRef file, at the key', async () => {
    const findings = await validate({
      [DOCUMENT]: document('v3.0.0', '', '      - name: id\n        logicalType: string\n        requried: true\n      - {name: price, logicalType: number, required: true}\n'),
    })
    assert.equal(findings.length, 1, JSON.stringify(findings, null, 1))
    assert.deepEqual(
      {file: findings[0].file, line: findings[0].line, column: findings[0].column, path: findings[0].path, rule: findings[0].rule},
      {file: DOCUMENT, line: 12, column: 9, path: '/schema/0/properties/0/requried', rule: 'contract'},
    )
    assert.match(findings[0].message, /unknown field "schema\.0\.properties\.0\.requried"/)
  })

  it('reports a bound-schema disagreement even when the document has other findings', async () => {
    const findings = await validate({
      [DOCUMENT]: document('v3.0.0', 'owner: someone\n', '      - {name: id, logicalType: integer, required: true}\n      - {name: price, logicalType: number, required: true}\n'),
    })
    assert.deepEqual(findings.map((f) => f.path).sort(), ['/owner', '/schema/0/properties/0/logicalType'])
    assert.match(findings.find((f) => f.path === '/schema/0/properties/0/logicalType')!.message, /integer in the contract but string in items@1\.0\.0\/clean/)
  })

  it('refuses an unknown specificationVersion and names the supported ones', async () => {
    const findings = await validate({[CONTRACT]: contract('3.9.0'), [DOCUMENT]: document('v3.0.0')})
    const hit = findings.find((f) => f.path === '/spec/specificationVersion')
    assert.ok(hit, JSON.stringify(findings, null, 1))
    assert.equal(hit.file, CONTRACT)
    assert.equal(hit.line, 7)
    assert.match(hit.message, /ODCS 3\.9\.0 .*3\.0\.0, 3\.0\.1, 3\.0\.2 and 3\.1\.0/)
  })

  it('refuses an unknown ODCS apiVersion and names the ones the version reads', async () => {
    const findings = await validate({[DOCUMENT]: document('v3.9.0')})
    assert.equal(findings.length, 1, JSON.stringify(findings, null, 1))
    assert.equal(findings[0].path, '/apiVersion')
    assert.match(findings[0].message, /apiVersion must be one of: v3\.0\.0/)
  })

  it('says so when the document and the DataContract name different versions', async () => {
    const findings = await validate({[CONTRACT]: contract('3.1.0'), [DOCUMENT]: document('v3.0.2')})
    assert.equal(findings.length, 1, JSON.stringify(findings, null, 1))
    assert.match(findings[0].message, /apiVersion v3\.0\.2 but the DataContract says specificationVersion 3\.1\.0/)
  })

  it('accepts a 3.1.0 team object and a support channel without url, which 3.0.2 refuses', async () => {
    const extra = 'team:\n  name: shop\n  members:\n    - username: ada\nsupport:\n  - channel: "#shop"\n'
    assert.deepEqual(await validate({[CONTRACT]: contract('3.1.0'), [DOCUMENT]: document('v3.1.0', extra)}), [])
    const older = await validate({[CONTRACT]: contract('3.0.2'), [DOCUMENT]: document('v3.0.2', extra)})
    assert.deepEqual(older.map((f) => f.path).sort(), ['/support/0', '/team'])
  })

  it('warns, without failing, that a 3.1.0 team list is deprecated', async () => {
    const findings = await validate({[CONTRACT]: contract('3.1.0'), [DOCUMENT]: document('v3.1.0', 'team:\n  - username: ada\n')})
    assert.deepEqual(findings.map((f) => [f.severity, f.path]), [['warning', '/team']])
    assert.match(findings[0].message, /team: \{members: \[\.\.\.\]\}/)
  })

  it('warns, without failing, of a misspelt key where ODCS 3.0.x leaves the object open', async () => {
    const result = await (async () => {
      writeFileSync(path.join(dir, DOCUMENT), document('v3.0.0', 'support:\n  - channel: "#shop"\n    url: https://chat.example.com/shop\n    scopes: issues\n'))
      return validateDirectory(dir)
    })()
    assert.equal(result.valid, true)
    assert.deepEqual(result.findings.map((f) => [f.severity, f.path, f.line, f.column]), [['warning', '/support/0/scopes', 9, 5]])
    assert.match(result.findings[0].message, /"support\.0\.scopes" is not an ODCS field \(known here: channel, url, description, tool, scope, invitationUrl\)/)
  })

  it('asks for a logicalType where a property has logicalTypeOptions without one', async () => {
    const findings = await validate({
      [DOCUMENT]: document('v3.0.0', '', '      - {name: id, logicalTypeOptions: {maxLength: 3}, required: true}\n      - {name: price, logicalType: number, required: true}\n'),
    })
    assert.equal(findings.length, 1, JSON.stringify(findings, null, 1))
    assert.match(findings[0].message, /logicalTypeOptions applies to a logicalType, and this property has none; set its logicalType/)
  })
})
