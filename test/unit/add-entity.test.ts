import assert from 'node:assert/strict'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parse} from 'yaml'

import {UsageError, UserError} from '../../src/core/errors.js'
import {addEntity} from '../../src/core/scaffold/add-entity.js'
import {initProject} from '../../src/core/scaffold/init.js'
import {addEntityResultSchema} from '../../src/core/scaffold/result-schema.js'
import {MAX_ENTITY_NAME} from '../../src/core/scaffold/names.js'
import {type InitFlags, answersFromFlags, completeAnswers} from '../../src/core/scaffold/resolve.js'
import {compile} from '../../src/core/validate/ajv.js'
import {validateDirectory} from '../../src/core/validate/validate.js'
import {ROOT, STACK_TRACE, cli} from '../helpers/cli.js'
import {unwrapped} from '../helpers/unwrap.js'

/** A snapshot of every file under dir and its content, to prove a refusal changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const rel of readdirSync(dir, {recursive: true}) as string[]) {
    const full = path.join(dir, rel)
    if (existsSync(full) && !readdirSafe(full)) out[rel] = readFileSync(full, 'utf8')
  }
  return out
}
function readdirSafe(p: string): boolean {
  try {
    readdirSync(p)
    return true
  } catch {
    return false
  }
}

describe('dappmesh add entity', () => {
  let tmp: string
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-add-'))
  })
  afterEach(() => rmSync(tmp, {recursive: true, force: true}))

  async function project(flags: InitFlags = {}): Promise<string> {
    const dir = path.join(tmp, 'shop')
    await initProject(dir, completeAnswers(dir, answersFromFlags({domain: 'sales', owner: 'a@example.com', entity: ['orders'], ...flags}), 'test'))
    return dir
  }

  describe('adds an entity and the project still validates clean', () => {
    const cases: Array<[string, InitFlags, string[]]> = [
      ['to a product with the default storage (embedded duckdb)', {}, ['customers']],
      ['to a product with operational storage', {storage: ['operational=postgresql']}, ['customers']],
      ['several times over', {}, ['customers', 'line-items', 'x1']],
      ['to a product with analytics storage only', {storage: ['analytics=doris']}, ['events']],
      ['to a product with object storage only', {storage: ['object=minio']}, ['files2']],
      ['to a product with no storage', {storage: ['none']}, ['notes']],
      ['to a product with every storage class', {storage: ['operational=tidb', 'analytics=clickhouse', 'object=s3']}, ['a-b-c']],
      ['with a name at the longest allowed', {}, ['e'.repeat(MAX_ENTITY_NAME)]],
    ]
    for (const [title, flags, names] of cases) {
      it(title, async () => {
        const dir = await project(flags)
        for (const name of names) {
          const result = await addEntity(dir, name)
          assert.equal(result.dir, dir)
          assert.ok(result.files.includes(`model/${name}/schema.yaml`))
          const v = await validateDirectory(dir)
          // An engine with no data-plane driver yet (tidb, doris, …) is the storage rule's warning, rightly.
          assert.deepEqual(v.findings.filter((f) => !(f.rule === 'storage' && f.severity === 'warning')), [], JSON.stringify(v.findings, null, 2))
        }
      })
    }
  })

  it('writes model/NAME/* and services/NAME/* and nothing else', async () => {
    const dir = await project()
    const before = snapshot(dir)
    const result = await addEntity(dir, 'customers')
    assert.deepEqual([...result.files].sort(), [
      'data/customers-events.csv',
      'model/customers/flow.yaml', 'model/customers/schema.yaml', 'model/customers/workflow.yaml',
      'services/customers/contracts.yaml', 'services/customers/customers-clean.odcs.yaml',
      'services/customers/input.yaml', 'services/customers/output.yaml',
      'tests/customers/expect/customers__clean.csv', 'tests/customers/inputs/customers-events.csv',
    ])
    const after = snapshot(dir)
    for (const [file, content] of Object.entries(before)) assert.equal(after[file], content, `${file} unchanged`)
  })

  it('uses the product\'s own names: its domain in the contract id, its storage in the output port', async () => {
    const dir = await project({storage: ['analytics=duckdb']})
    await addEntity(dir, 'events')
    const doc = parse(readFileSync(path.join(dir, 'services/events/events-clean.odcs.yaml'), 'utf8'))
    assert.equal(doc.id, 'urn:dappmesh:sales:shop:events-clean')
    assert.equal(doc.dataProduct, 'shop')
    const port = parse(readFileSync(path.join(dir, 'services/events/output.yaml'), 'utf8'))
    assert.deepEqual([port.metadata.name, port.spec.type, port.spec.storage], ['events-table', 'table', 'analytics'])
  })

  it('finds the project by walking up from a directory inside it', async () => {
    const dir = await project()
    const deep = path.join(dir, 'model', 'orders')
    const result = await addEntity(deep, 'customers')
    assert.equal(result.dir, dir)
    assert.ok(existsSync(path.join(dir, 'model/customers/schema.yaml')))
    assert.equal(existsSync(path.join(deep, 'model')), false)
  })

  it('adds to the example project too (not made by init)', async () => {
    const dir = path.join(tmp, 'orders')
    cpSync(path.join(ROOT, 'examples/orders'), dir, {recursive: true})
    await addEntity(dir, 'customers')
    const v = await validateDirectory(dir)
    assert.deepEqual(v.findings, [])
  })

  describe('refuses, and writes nothing', () => {
    it('a name whose data test directory exists', async () => {
      const dir = await project()
      mkdirSync(path.join(dir, 'tests', 'customers'), {recursive: true})
      const before = snapshot(dir)
      await assert.rejects(addEntity(dir, 'customers'), (e: unknown) => e instanceof UserError && /entity "customers" exists already .*tests\/customers\/ exists/.test(e.message))
      assert.deepEqual(snapshot(dir), before)
    })
    it('a name whose entity directory exists', async () => {
      const dir = await project()
      const before = snapshot(dir)
      await assert.rejects(addEntity(dir, 'orders'), (e: unknown) => e instanceof UserError && e.exit === 1 && /entity "orders" exists already .*model\/orders\/ exists/.test(e.message))
      assert.deepEqual(snapshot(dir), before)
    })
    it('a name a DataSchema has, wherever its file is', async () => {
      const dir = await project()
      mkdirSync(path.join(dir, 'model', 'elsewhere'))
      writeFileSync(path.join(dir, 'model/elsewhere/schema.yaml'), readFileSync(path.join(dir, 'model/orders/schema.yaml'), 'utf8').replace(/name: orders\n/, 'name: legacy\n'))
      await assert.rejects(addEntity(dir, 'legacy'), /entity "legacy" exists already .*DataSchema "legacy" is defined in model\/elsewhere\/schema\.yaml/)
      assert.equal(existsSync(path.join(dir, 'model/legacy')), false)
      assert.equal(existsSync(path.join(dir, 'services/legacy')), false)
    })
    it('a name whose derived resources exist (an InputPort of that name)', async () => {
      const dir = await project()
      writeFileSync(path.join(dir, 'services/orders/input.yaml'), readFileSync(path.join(dir, 'services/orders/input.yaml'), 'utf8').replace('name: orders-events', 'name: audit-events'))
      await assert.rejects(addEntity(dir, 'audit'), /InputPort "audit-events" is defined in services\/orders\/input\.yaml/)
    })
    it('an invalid name, naming the rule', async () => {
      const dir = await project()
      await assert.rejects(addEntity(dir, 'Bad_Name'), (e: unknown) => e instanceof UsageError && /"Bad_Name" is not a valid entity name: .*lower-case letters/.test(e.message))
    })
    it('outside a project', async () => {
      await assert.rejects(addEntity(tmp, 'customers'), (e: unknown) => e instanceof UsageError && /not inside a dappmesh project: no dappmesh\.yaml in .* or any directory above it/.test(e.message))
      assert.deepEqual(readdirSync(tmp), [])
    })
  })

  describe('CLI', () => {
    it('adds an entity from inside the project, exit 0, and validate agrees', async () => {
      const dir = await project()
      const r = cli(['add', 'entity', 'customers'], {cwd: path.join(dir, 'services')})
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^Added entity customers to .*shop \(10 files\):/)
      assert.match(r.stdout, /outputPort: customers-table, access: read/)
      assert.equal(cli(['validate', dir]).code, 0)
    })

    it('--dir and --json: {dir, entity, outputPort, files} (the documented result schema)', async () => {
      const dir = await project()
      const r = cli(['add', 'entity', 'invoices', '--dir', dir, '--json'])
      assert.equal(r.code, 0, r.stderr)
      const result = JSON.parse(r.stdout)
      const check = compile(addEntityResultSchema)
      assert.ok(check(JSON.parse(r.stdout)), JSON.stringify(check.errors))
      assert.equal(result.dir, dir)
      assert.equal(result.entity, 'invoices')
      assert.equal(result.files.length, 10)
      for (const f of result.files) assert.ok(existsSync(path.join(dir, f)), f)
    })

    it('exits 2 outside a project, saying how to fix it', () => {
      const r = cli(['add', 'entity', 'customers'], {cwd: tmp})
      assert.equal(r.code, 2)
      assert.match(unwrapped(r.stderr), /not inside a dappmesh project: no dappmesh\.yaml in .* or any directory above it/)
      assert.match(unwrapped(r.stderr), /dappmesh init/)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
    })

    it('exits 1 for a name that exists, and writes nothing', async () => {
      const dir = await project()
      const before = snapshot(dir)
      const r = cli(['add', 'entity', 'orders', '--dir', dir])
      assert.equal(r.code, 1)
      assert.match(unwrapped(r.stderr), /entity "orders" exists already/)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
      assert.deepEqual(snapshot(dir), before)
    })

    it('exits 2 for an invalid name, and for a missing one', async () => {
      const dir = await project()
      const bad = cli(['add', 'entity', 'Bad_Name', '--dir', dir])
      assert.equal(bad.code, 2)
      assert.match(unwrapped(bad.stderr), /NAME: "Bad_Name" is not a valid entity name/)
      assert.doesNotMatch(bad.stderr, STACK_TRACE)
      const missing = cli(['add', 'entity', '--dir', dir])
      assert.equal(missing.code, 2)
      assert.doesNotMatch(missing.stderr, STACK_TRACE)
    })

    it('--json reports an error as JSON with its exit code', () => {
      const r = cli(['add', 'entity', 'customers', '--json'], {cwd: tmp})
      assert.equal(r.code, 2)
      assert.match(JSON.parse(r.stdout).error.message, /not inside a dappmesh project/)
    })
  })
})
