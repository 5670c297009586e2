// Writes one valid product (a copy of examples/orders) grown to about `megabytes` MB with extra
// DataContracts whose inline ODCS documents carry many quality rules: the shape of a real
// project whose size sits in its contracts. Each contract stays well under etcd's object limit.
import {cpSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

const RULES_PER_CONTRACT = 2000

function contract(n) {
  const rules = []
  for (let r = 0; r < RULES_PER_CONTRACT; r++) {
    rules.push(`            - type: sql
              name: rule-${n}-${r}
              description: amounts of order batch ${r} stay within the agreed bound number ${r}
              query: SELECT count(*) FROM clean WHERE amount < 0 AND id LIKE 'batch-${r}-%'
              mustBe: 0
`)
  }
  return `apiVersion: dappmesh.io/v1alpha1
kind: DataContract
metadata:
  name: orders-extra-${n}
spec:
  specification: odcs
  specificationVersion: 3.0.0
  schema: orders@1.1.0/clean
  document:
    apiVersion: v3.0.0
    kind: DataContract
    id: urn:acme:sales:orders-extra-${n}
    version: 1.0.0
    status: active
    name: Extra contract ${n}
    schema:
      - name: clean
        logicalType: object
        properties:
          - {name: id, logicalType: string, required: true, primaryKey: true}
          - {name: amount, logicalType: number, required: true}
          - {name: placed_at, logicalType: date, required: true}
        quality:
${rules.join('')}`
}

/** Returns the number of bytes written beyond the example. */
export function generateLargeProject(root, examples, megabytes) {
  cpSync(path.join(examples, 'orders'), root, {recursive: true})
  mkdirSync(path.join(root, 'contracts'), {recursive: true})
  let bytes = 0
  for (let n = 0; bytes < megabytes * 1024 * 1024; n++) {
    const text = contract(n)
    writeFileSync(path.join(root, 'contracts', `extra-${n}.yaml`), text)
    bytes += Buffer.byteLength(text)
  }
  return bytes
}
