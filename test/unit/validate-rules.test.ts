import assert from 'node:assert/strict'

import {KIND_NAMES} from '../../src/core/model/kinds.js'
import {loadProject} from '../../src/core/project/load.js'
import {validateDirectory} from '../../src/core/validate/validate.js'
import {fixture} from '../helpers/cli.js'

interface Expected {
  rule: string
  file: string
  line: number
  column?: number
  path?: string
  message?: RegExp
}

/** Each fixture breaks one thing; the finding must name the rule, file and line of the culprit. */
const INVALID: Record<string, Expected> = {
  'yaml-syntax': {rule: 'yaml', file: 'storage/operational.yaml', line: 8, message: /invalid YAML/},
  'yaml-duplicate-key': {rule: 'yaml', file: 'storage/operational.yaml', line: 8, column: 3, message: /duplicate key "engine"/},
  'unknown-kind': {rule: 'unknown-kind', file: 'storage/lake.yaml', line: 2, column: 7, path: '/kind', message: /unknown kind "DataLake"/},
  'unknown-api-version': {rule: 'unknown-kind', file: 'storage/operational.yaml', line: 1, column: 13, path: '/apiVersion', message: /dappmesh\.io\/v2/},
  'schema-missing-required': {rule: 'schema', file: 'dappmesh.yaml', line: 6, path: '/spec', message: /missing required field "spec\.owner"/},
  'schema-wrong-type': {rule: 'schema', file: 'storage/operational.yaml', line: 8, column: 13, path: '/spec/replicas', message: /must be an integer/},
  'schema-unknown-field': {rule: 'schema', file: 'storage/operational.yaml', line: 7, column: 3, path: '/spec/engin', message: /unknown field "spec\.engin".*allowed: class, engine/},
  'schema-engine-of-other-class': {rule: 'schema', file: 'storage/operational.yaml', line: 7, path: '/spec/engine', message: /postgresql, surrealdb, tidb/},
  'schema-bad-semver': {rule: 'schema', file: 'dappmesh.yaml', line: 8, path: '/spec/version', message: /semantic version/},
  'schema-system-subject': {rule: 'schema', file: 'mesh/roles.yaml', line: 8, path: '/spec/subjects/0/name', message: /must not start with "system:"/},
  'schema-system-namespace-subject': {rule: 'schema', file: 'mesh/roles.yaml', line: 9, path: '/spec/subjects/0/namespace', message: /must not be a Kubernetes system namespace \(kube-\*\)/},
  'schema-reserved-namespace': {rule: 'schema', file: 'mesh/domain.yaml', line: 8, path: '/spec/namespace', message: /must not be a reserved namespace \(kube-\*, default, dappmesh-system\)/},
  'naming-reserved-domain': {rule: 'naming', file: 'mesh/domain.yaml', line: 4, path: '/metadata/name', message: /DataDomain "default" would use the namespace of its name.*set spec\.namespace/},
  'naming-product-separator': {rule: 'naming', file: 'dappmesh.yaml', line: 4, path: '/metadata/name', message: /DataProduct name "my--items" holds "--", which separates a product's name from its parts' in the cluster; use single hyphens \(e\.g\. "my-items"\)/},
  'naming-shared-child': {rule: 'naming', file: 'services/items/output.yaml', line: 4, path: '/metadata/name', message: /OutputPort items-out and DataStorage items-out would both need the Service "items--items-out"; rename one of them/},
  'storage-replicas': {rule: 'storage', file: 'storage/operational.yaml', line: 8, path: '/spec/replicas', message: /asks for 3 replicas, but dappmesh runs postgresql as a single node .* set replicas to 1/},
  'storage-backup': {rule: 'storage', file: 'storage/operational.yaml', line: 9, path: '/spec/backup', message: /asks for a backup, which dappmesh does not take for postgresql yet; remove spec\.backup/},
  'naming-derived-too-long': {rule: 'naming', file: 'storage/operational.yaml', line: 4, path: '/metadata/name', message: /StatefulSet and Service made for DataStorage .* are named "items--operational-store-with-a-very-long-name-of-48-ch", which is 55 characters, over the 52 Kubernetes allows/},
  naming: {rule: 'naming', file: 'mesh/roles.yaml', line: 4, column: 9, path: '/metadata/name', message: /not a DNS-1123 label.*"readers-team"/},
  duplicate: {rule: 'duplicate', file: 'storage/operational.yaml', line: 4, path: '/metadata/name', message: /already defined at storage\/copy\.yaml:4/},
  'ref-domain': {rule: 'ref', file: 'dappmesh.yaml', line: 6, column: 11, path: '/spec/domain', message: /no DataDomain named "shops".*one of: shop/},
  'ref-state': {rule: 'ref', file: 'services/items/output.yaml', line: 8, path: '/spec/schema', message: /no state "cleaned" \(it has raw, clean\)/},
  'ref-workflow-transition': {rule: 'ref', file: 'model/items/workflow.yaml', line: 10, path: '/spec/activities/0/transition', message: /no transition "scrub"/},
  'ref-document-ref-missing': {rule: 'ref', file: 'services/items/contracts.yaml', line: 10, path: '/spec/documentRef/path', message: /missing\.odcs\.yaml/},
  'cycle-flow': {rule: 'cycle', file: 'model/items/flow.yaml', line: 12, path: '/spec/transitions/0', message: /raw → clean → raw/},
  'cycle-workflow': {rule: 'cycle', file: 'model/items/workflow.yaml', line: 14, message: /clean → again → clean/},
  'contract-invalid-document': {rule: 'contract', file: 'services/items/contracts.yaml', line: 10, path: '/spec/document', message: /missing required field "id"/},
  'contract-type-mismatch': {rule: 'contract', file: 'services/items/contracts.yaml', line: 23, path: '/spec/document/schema/0/properties/1/logicalType', message: /string in the contract but decimal.*use logicalType number/},
  'contract-missing-required-field': {rule: 'contract', file: 'services/items/contracts.yaml', line: 19, message: /required field "price".*missing from the contract/},
  'contract-unknown-property': {rule: 'contract', file: 'services/items/contracts.yaml', line: 25, message: /property "weight" is not a field/},
  'breaking-required-added': {rule: 'breaking', file: 'model/items/schema.yaml', line: 34, path: '/spec/versions/1/states/0/fields/2', message: /required field "sku" was added.*BACKWARD.*2\.0\.0/},
  'breaking-minor-bump': {rule: 'breaking', file: 'model/items/schema.yaml', line: 29, message: /"id" changed type from string to integer/},
  'breaking-enum-narrowed': {rule: 'breaking', file: 'model/items/schema.yaml', line: 37, message: /enum of "size" was narrowed \(removed l\)/},
  'breaking-field-removed-forward': {rule: 'breaking', file: 'model/items/schema.yaml', line: 27, message: /field "price" was removed.*FORWARD/},
  'governance-no-contract': {rule: 'governance', file: 'services/items/output.yaml', line: 6, message: /requireContracts/},
  'governance-pii': {rule: 'governance', file: 'model/items/schema.yaml', line: 17, message: /"email".*pii but has no classification/},
}

const VALID = ['valid-minimal', 'valid-multi-document', 'valid-document-ref', 'valid-compatible-minor', 'valid-major-bump', 'valid-cross-schema-ref']

describe('validate rules', () => {
  for (const [name, want] of Object.entries(INVALID)) {
    it(`reports ${want.rule} for fixture ${name} at ${want.file}:${want.line}`, async () => {
      const result = await validateDirectory(fixture('validate', name))
      assert.equal(result.valid, false)
      const hit = result.findings.find((f) => f.rule === want.rule && f.file === want.file)
      assert.ok(hit, `no ${want.rule} finding in ${want.file}; got ${JSON.stringify(result.findings, null, 1)}`)
      assert.equal(hit.line, want.line)
      if (want.column !== undefined) assert.equal(hit.column, want.column)
      if (want.path !== undefined) assert.equal(hit.path, want.path)
      if (want.message) assert.match(hit.message, want.message)
      assert.equal(hit.severity, 'error')
      // One broken thing, one finding: no cascade of follow-on errors.
      assert.equal(result.findings.filter((f) => f.severity === 'error').length, name === 'breaking-minor-bump' ? 2 : 1, JSON.stringify(result.findings, null, 1))
    })
  }

  for (const name of VALID) {
    it(`accepts ${name}`, async () => {
      const result = await validateDirectory(fixture('validate', name))
      assert.deepEqual(result.findings, [])
      assert.equal(result.valid, true)
    })
  }

  it('accepts the example project, which shows every kind', async () => {
    const result = await validateDirectory(fixture('../../examples/orders'))
    assert.deepEqual(result.findings, [])
    const project = await loadProject(fixture('../../examples/orders'))
    assert.deepEqual(new Set(project.resources.map((r) => r.kind)), new Set(KIND_NAMES))
  })

  it('reads a multi-document file as several resources and skips a trailing empty document', async () => {
    const result = await validateDirectory(fixture('validate', 'valid-multi-document'))
    const base = await validateDirectory(fixture('validate', 'valid-minimal'))
    assert.equal(result.resources, base.resources + 2)
  })

  it('reads a documentRef contract as a contract, not as a resource', async () => {
    const result = await validateDirectory(fixture('validate', 'valid-document-ref'))
    const base = await validateDirectory(fixture('validate', 'valid-minimal'))
    assert.equal(result.resources, base.resources)
  })
})
