// Writes a large, valid project: one mesh, a few domains and one product made of many parts (the
// parts of what would be many products, each under products/<p>/ with every product-scoped kind;
// a project holds exactly one DataProduct, so only the first part declares it). Contracts are inline so that every YAML file is a Kubernetes-style
// resource that kubeconform can check too (an ODCS file named by documentRef is not).
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

const API = 'dappmesh.io/v1alpha1'
const ENTITIES = ['orders', 'customers']

/** Documents written per product: product, 3 storages, 2 roles, and 8 per entity. */
export const DOCUMENTS_PER_PRODUCT = 1 + 3 + 2 + ENTITIES.length * 8

function doc(kind, name, spec) {
  return `apiVersion: ${API}\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`
}

function write(root, file, docs) {
  const full = path.join(root, file)
  mkdirSync(path.dirname(full), {recursive: true})
  writeFileSync(full, docs.join('---\n'))
}

function entityFiles(root, dir, p, entity) {
  const e = `${p}-${entity}`
  const fields = (extra = '') => `            - {name: id, type: string, required: true, primaryKey: true}
            - {name: email, type: string, pii: true, classification: confidential}
            - {name: amount, type: decimal, required: true}
            - {name: placed_at, type: timestamp, required: true}
${extra}`
  write(root, `${dir}/model/${entity}/schema.yaml`, [
    doc('DataSchema', e, `  entity: ${e}
  description: ${entity} of product ${p}
  versions:
    - version: 1.0.0
      states:
        - name: raw
          fields:
${fields()}        - name: clean
          fields:
${fields('            - {name: status, type: string, enum: [placed, paid]}\n')}    - version: 1.1.0
      states:
        - name: raw
          fields:
${fields('            - {name: channel, type: string}\n')}        - name: clean
          fields:
${fields('            - {name: status, type: string, enum: [placed, paid, shipped]}\n            - {name: channel, type: string}\n')}        - name: daily
          fields:
            - {name: day, type: date, required: true, primaryKey: true}
            - {name: total, type: long, required: true}
            - {name: revenue, type: decimal, required: true}
`),
  ])
  write(root, `${dir}/model/${entity}/flow.yaml`, [
    doc('DataFlow', e, `  schema: ${e}
  version: 1.1.0
  inputs:
    - port: ${e}-events
      state: raw
  transitions:
    - {name: ingest, from: [], to: raw, kind: ingestion}
    - name: clean
      from: [raw]
      to: clean
      kind: transformation
      sql: SELECT id, email, amount, placed_at, 'placed' AS status, channel FROM raw WHERE amount >= 0
    - name: daily
      from: [clean]
      to: daily
      kind: aggregation
      sql: SELECT date(placed_at) AS day, count(*) AS total, sum(amount) AS revenue FROM clean GROUP BY 1
  outputs:
    - {state: clean, port: ${e}-api}
    - {state: daily, port: ${e}-daily}
`),
  ])
  write(root, `${dir}/model/${entity}/workflow.yaml`, [
    doc('DataWorkflow', `${e}-nightly`, `  flow: ${e}
  schedule: "0 2 * * *"
  triggers:
    - port: ${e}-events
  activities:
    - name: clean
      transition: clean
      retry: {maxAttempts: 3, backoff: 30s}
      timeout: 10m
    - {name: daily, transition: daily, dependsOn: [clean], timeout: 30m}
`),
  ])
  const contract = (name, state, object, properties) =>
    doc('DataContract', name, `  specification: odcs
  specificationVersion: 3.0.0
  schema: ${e}@1.1.0/${state}
  document:
    apiVersion: v3.0.0
    kind: DataContract
    id: urn:bench:${name}
    version: 1.0.0
    status: active
    schema:
      - name: ${object}
        logicalType: object
        properties:
${properties}`)
  write(root, `${dir}/services/${entity}/contracts.yaml`, [
    contract(`${e}-clean`, 'clean', 'clean', `          - {name: id, logicalType: string, required: true, primaryKey: true}
          - {name: email, logicalType: string, classification: confidential}
          - {name: amount, logicalType: number, required: true}
          - {name: placed_at, logicalType: date, required: true}
          - {name: status, logicalType: string}
          - {name: channel, logicalType: string}
`),
    contract(`${e}-daily`, 'daily', 'daily', `          - {name: day, logicalType: date, required: true, primaryKey: true}
          - {name: total, logicalType: integer, required: true}
          - {name: revenue, logicalType: number, required: true}
`),
  ])
  write(root, `${dir}/services/${entity}/input.yaml`, [
    doc('InputPort', `${e}-events`, `  entity: ${e}
  schema: ${e}@1.1.0/raw
  source:
    type: kafka
    uri: kafka://kafka.bench.svc:9092/${e}
`),
  ])
  write(root, `${dir}/services/${entity}/output.yaml`, [
    doc('OutputPort', `${e}-api`, `  entity: ${e}
  type: api
  schema: ${e}@1.1.0/clean
  contract: ${e}-clean
  storage: ${p}-operational
  service:
    image: 127.0.0.1:5000/bench/${e}:1.0.0
    port: 8080
`),
    doc('OutputPort', `${e}-daily`, `  entity: ${e}
  type: table
  schema: ${e}@1.1.0/daily
  contract: ${e}-daily
  storage: ${p}-analytics
`),
  ])
}

/**
 * Generates at least `minDocuments` documents under `root` (which must be empty or absent).
 * Returns the counts; the project is valid by construction, which the bench checks.
 */
export function generateProject(root, minDocuments) {
  const products = Math.max(1, Math.ceil(Math.max(0, minDocuments - 5) / (DOCUMENTS_PER_PRODUCT - 1)))
  const domains = ['sales', 'finance', 'logistics']
  write(root, 'mesh/cluster.yaml', [
    doc('DataMesh', 'bench', `  description: A generated mesh for benchmarks.
  governance:
    contractSpecification: odcs
    compatibility: BACKWARD
    requireContracts: true
    requireClassificationForPii: true
`),
  ])
  write(root, 'mesh/domains.yaml', domains.map((d) => doc('DataDomain', d, `  mesh: bench\n  owner: ${d}@example.com\n  namespace: ${d}\n`)))
  let files = 2
  for (let i = 0; i < products; i++) {
    const p = `p${String(i).padStart(4, '0')}`
    const dir = `products/${p}`
    if (i === 0) write(root, `${dir}/dappmesh.yaml`, [
      doc('DataProduct', p, `  domain: ${domains[i % domains.length]}\n  owner: team-${p}@example.com\n  version: 1.0.${i}\n  tags: [bench]\n`),
    ])
    write(root, `${dir}/mesh/roles.yaml`, [
      doc('DataRole', `${p}-analysts`, `  subjects:
    - {kind: Group, name: analysts}
  grants:
    - {outputPort: ${p}-${ENTITIES[0]}-api, access: read}
    - {storage: ${p}-analytics, access: read}
`),
      doc('DataRole', `${p}-ingest`, `  subjects:
    - {kind: ServiceAccount, name: ${p}-ingest, namespace: ${domains[i % domains.length]}}
  grants:
    - {storage: ${p}-operational, access: write}
`),
    ])
    write(root, `${dir}/storage/operational.yaml`, [
      doc('DataStorage', `${p}-operational`, `  class: operational\n  engine: postgresql\n  version: "16"\n  replicas: 1\n  size: 5Gi\n`),
    ])
    write(root, `${dir}/storage/analytics.yaml`, [doc('DataStorage', `${p}-analytics`, `  class: analytics\n  engine: duckdb\n  size: 10Gi\n`)])
    write(root, `${dir}/storage/object.yaml`, [doc('DataStorage', `${p}-object`, `  class: object\n  engine: minio\n  size: 20Gi\n`)])
    files += i === 0 ? 5 : 4
    for (const entity of ENTITIES) {
      entityFiles(root, dir, p, entity)
      files += 6
    }
  }
  return {products, files, documents: 1 + domains.length + 1 + products * (DOCUMENTS_PER_PRODUCT - 1)}
}
