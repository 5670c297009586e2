import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {loadProject} from '../../src/core/project/load.js'
import {checkSql, closeSqlStart, startSql} from '../../src/core/validate/rules/sql.js'
import {SqlBindCache} from '../../src/core/validate/sql/cache.js'
import {type ValidationResult, validateDirectory, validateProject} from '../../src/core/validate/validate.js'
import {ROOT, fixture} from '../helpers/cli.js'

/** The valid-minimal fixture's flow, with the transition's sql (and more transitions) given. */
function flow(transitions: string): string {
  return `apiVersion: dappmesh.io/v1alpha1
kind: DataFlow
metadata:
  name: items
spec:
  schema: items
  version: 1.0.0
  inputs:
    - port: items-in
      state: raw
  transitions:
${transitions}
  outputs:
    - state: clean
      port: items-out
`
}

function withoutStorage(result: ValidationResult): ValidationResult {
  const findings = result.findings.filter((f) => f.rule !== 'storage')
  return {...result, findings, warnings: findings.length - result.errors}
}

/** A `clean` transition from raw to clean (items: id string required, price decimal) with `sql`. */
const clean = (sql: string) => `    - name: clean
      from: [raw]
      to: clean
      kind: transformation
      sql: ${JSON.stringify(sql)}`

/** Line 16 of flow(clean(…)) holds the sql, its value starting at column 12. */
const SQL_LINE = 16

describe('validate rule sql', () => {
  let tmp: string
  let dir: string
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-sql-'))
    dir = path.join(tmp, 'items')
    cpSync(fixture('validate', 'valid-minimal'), dir, {recursive: true})
  })
  afterEach(() => rmSync(tmp, {recursive: true, force: true}))

  /**
   * The result without the `storage` warning about the fixture's postgresql storage, which may
   * have no driver in this build: it is another rule's, and says nothing about the SQL.
   */
  async function validateFlow(text: string): Promise<ValidationResult> {
    writeFileSync(path.join(dir, 'model/items/flow.yaml'), text)
    return withoutStorage(await validateDirectory(dir))
  }

  /** The one sql finding, which must be located at the sql line; no other finding. */
  async function onlySqlFinding(sql: string, severity: 'error' | 'warning' = 'error') {
    const result = await validateFlow(flow(clean(sql)))
    assert.equal(result.findings.length, 1, JSON.stringify(result.findings, null, 1))
    const [f] = result.findings
    assert.deepEqual([f.rule, f.severity, f.file, f.line, f.column, f.path, f.kind, f.name], ['sql', severity, 'model/items/flow.yaml', SQL_LINE, 12, '/spec/transitions/0/sql', 'DataFlow', 'items'])
    assert.equal(result.valid, severity === 'warning')
    assert.match(f.message, /^transition "clean": /)
    return f
  }

  it('accepts SQL whose result columns are the target state\'s fields, in any order', async () => {
    const result = await validateFlow(flow(clean('SELECT CAST(price AS DECIMAL(38,9)) AS price, id FROM raw WHERE price IS NOT NULL')))
    assert.deepEqual(result.findings, [])
  })

  it('accepts a column DuckDB converts to the field\'s type implicitly (INTEGER into a decimal field)', async () => {
    const result = await validateFlow(flow(clean('SELECT id, CAST(1 AS INTEGER) AS price FROM raw')))
    assert.deepEqual(result.findings, [])
  })

  it('accepts a trailing semicolon', async () => {
    assert.deepEqual((await validateFlow(flow(clean('SELECT id, price FROM raw;')))).findings, [])
  })

  it('reports a syntax error', async () => {
    const f = await onlySqlFinding('SELEC id, price FROM raw')
    assert.match(f.message, /sql does not parse: Parser Error: syntax error at or near "SELEC"/)
  })

  it('reports an unknown column, with DuckDB\'s candidates and the columns of the tables in scope', async () => {
    const f = await onlySqlFinding('SELECT id, cost AS price FROM raw')
    assert.match(f.message, /does not bind: Binder Error: Referenced column "cost" not found in FROM clause!/)
    assert.match(f.message, /it reads raw \(id, price\)/)
  })

  it('reports an unknown table, saying a transition reads only its from[] states', async () => {
    const f = await onlySqlFinding('SELECT id, price FROM raws')
    assert.match(f.message, /Catalog Error: Table with name raws does not exist!/)
    assert.match(f.message, /reads only the states in its from\[\] \(it reads raw \(id, price\)\): add the state to from\[\] or fix the name/)
  })

  it('reports a state of the flow that the transition reads without listing it in from[]', async () => {
    const result = await validateFlow(flow(`${clean('SELECT id, price FROM raw')}
    - name: again
      from: [raw]
      to: clean
      kind: transformation
      sql: SELECT id, price FROM clean`))
    const sql = result.findings.filter((f) => f.rule === 'sql')
    assert.equal(sql.length, 1, JSON.stringify(result.findings, null, 1))
    assert.match(sql[0].message, /^transition "again": .*Table with name clean does not exist.*add the state to from\[\]/)
    assert.equal(sql[0].line, 21)
  })

  it('reports a field of the target state that the result lacks', async () => {
    const f = await onlySqlFinding('SELECT id FROM raw')
    assert.match(f.message, /the result lacks field "price" of state "clean" \(it has "id"\); select it \(… AS price\) or remove it from the state/)
  })

  it('reports a column the target state does not declare', async () => {
    const f = await onlySqlFinding('SELECT id, price, 1 AS extra FROM raw')
    assert.match(f.message, /the result has column "extra" that state "clean" does not declare; drop it from the SELECT, rename it/)
  })

  it('says when a column differs from a field only in case', async () => {
    const result = await validateFlow(flow(clean('SELECT id AS "ID", price FROM raw')))
    const messages = result.findings.map((f) => f.message).join('\n')
    assert.match(messages, /lacks field "id"/)
    assert.match(messages, /has column "ID" .*field names are exact: "ID" is not "id"/)
  })

  it('reports a column selected twice', async () => {
    const result = await validateFlow(flow(clean('SELECT id, price, price FROM raw')))
    assert.equal(result.findings.length, 1, JSON.stringify(result.findings))
    assert.match(result.findings[0].message, /the result has column "price" more than once/)
  })

  it('reports a column whose type DuckDB cannot convert implicitly as a warning: the project stays valid', async () => {
    const f = await onlySqlFinding('SELECT id, CAST(price AS VARCHAR) AS price FROM raw', 'warning')
    assert.match(f.message, /column "price" is VARCHAR but field "price" of state "clean" is DECIMAL\(38,9\), and DuckDB does not convert VARCHAR to DECIMAL\(38,9\) implicitly/)
    assert.match(f.message, /CAST\(… AS DECIMAL\(38,9\)\)/)
  })

  it('reports more than one statement', async () => {
    const f = await onlySqlFinding('SELECT id, price FROM raw; SELECT 1')
    assert.match(f.message, /sql holds 2 statements; a transition is one query/)
  })

  it('reports a statement that is not a query', async () => {
    const f = await onlySqlFinding('DELETE FROM raw')
    assert.match(f.message, /sql is not a query: a transition's sql is one SELECT/)
  })

  it('never reads a file while binding: a table function on a path is a finding', async () => {
    const f = await onlySqlFinding(`SELECT column0 AS id, NULL AS price FROM read_csv('${path.join(dir, 'dappmesh.yaml')}')`)
    assert.match(f.message, /Permission Error: Cannot access file/)
  })

  it('binds a cross-schema input as <schema>__<state>', async () => {
    const cross = path.join(tmp, 'cross')
    cpSync(fixture('validate', 'valid-cross-schema-ref'), cross, {recursive: true})
    const file = path.join(cross, 'model/items/flow.yaml')
    const original = readFileSync(file, 'utf8')
    writeFileSync(file, original.replace('      to: prices@1.0.0/daily\n      kind: aggregation\n', '      to: prices@1.0.0/daily\n      kind: aggregation\n      sql: SELECT id, CAST(avg(price) AS DECIMAL(38,9)) AS avg_price FROM clean GROUP BY id\n'))
    assert.deepEqual(withoutStorage(await validateDirectory(cross)).findings, [])
    // and the other way round: prices' state read into items is the table prices__daily
    writeFileSync(file, original.replace(/ {4}- name: average\n[^]*?kind: aggregation\n/, `    - name: back
      from: [prices@1.0.0/daily]
      to: clean
      kind: transformation
      sql: SELECT id, avg_price AS price FROM prices__daily WHERE id IS NOT NULL
`))
    assert.deepEqual(withoutStorage(await validateDirectory(cross)).findings, [])
  })

  it('locates a finding in a block scalar at the sql key\'s value', async () => {
    const result = await validateFlow(flow(`    - name: clean
      from: [raw]
      to: clean
      kind: transformation
      sql: |
        SELECT id
        FROM raw`))
    assert.equal(result.findings.length, 1)
    assert.deepEqual([result.findings[0].line, result.findings[0].path], [SQL_LINE, '/spec/transitions/0/sql'])
  })

  it('leaves a transition whose states do not resolve to the ref rule', async () => {
    const result = await validateFlow(flow(clean('SELECT nonsense').replace('to: clean', 'to: cleaned')))
    assert.deepEqual(result.findings.map((f) => f.rule), ['ref'])
  })

  it('finds the same with and without the fast path', async () => {
    writeFileSync(path.join(dir, 'model/items/flow.yaml'), flow(clean('SELECT id FROM raw')))
    assert.deepEqual(await validateDirectory(dir), await validateDirectory(dir, {precise: true}))
  })

  it('accepts the example project\'s SQL (examples/orders)', async () => {
    const result = await validateDirectory(path.join(ROOT, 'examples/orders'))
    assert.deepEqual(result.findings, [])
  })

  describe('the bind cache', () => {
    it('answers an unchanged transition without binding it again, with the same findings', async () => {
      writeFileSync(path.join(dir, 'model/items/flow.yaml'), flow(clean('SELECT id FROM raw')))
      const file = path.join(tmp, 'cache.json')
      const {context} = validateProject(await loadProject(dir))
      const first = await checkSql(context, {cache: SqlBindCache.load(file)})
      const second = await checkSql(context, {cache: SqlBindCache.load(file)})
      assert.equal(first.bound, 1)
      assert.equal(second.bound, 0)
      assert.equal(first.findings.length, 1)
      assert.deepEqual(second.findings, first.findings)
    })

    it('binds again when the SQL or a state\'s fields change', async () => {
      const file = path.join(tmp, 'cache.json')
      const bound = async () => checkSql(validateProject(await loadProject(dir)).context, {cache: SqlBindCache.load(file)})
      writeFileSync(path.join(dir, 'model/items/flow.yaml'), flow(clean('SELECT id FROM raw')))
      assert.equal((await bound()).bound, 1)
      writeFileSync(path.join(dir, 'model/items/flow.yaml'), flow(clean('SELECT id, price FROM raw')))
      const changed = await bound()
      assert.deepEqual([changed.bound, changed.findings.length], [1, 0])
      const schema = path.join(dir, 'model/items/schema.yaml')
      writeFileSync(schema, readFileSync(schema, 'utf8').replace(/(- name: clean\n {10}fields:\n)/, '$1            - {name: sku, type: string}\n'))
      const widened = await bound()
      assert.equal(widened.bound, 1)
      assert.match(widened.findings[0]?.message ?? '', /lacks field "sku"/)
    })

    it('is no cache when its file cannot be read or written', async () => {
      writeFileSync(path.join(dir, 'model/items/flow.yaml'), flow(clean('SELECT id FROM raw')))
      const file = path.join(tmp, 'not-a-dir', 'cache.json')
      writeFileSync(path.join(tmp, 'not-a-dir'), 'a file where a directory should be')
      const {context} = validateProject(await loadProject(dir))
      const first = await checkSql(context, {cache: SqlBindCache.load(file)})
      const second = await checkSql(context, {cache: SqlBindCache.load(file)})
      assert.deepEqual([first.bound, second.bound], [1, 1])
      assert.deepEqual(second.findings, first.findings)
    })
  })

  describe('starting DuckDB before the other rules', () => {
    let saved: string | undefined
    beforeEach(() => {
      saved = process.env.DAPPMESH_SQL_CACHE
      process.env.DAPPMESH_SQL_CACHE = path.join(tmp, 'cache.json')
    })
    afterEach(() => {
      process.env.DAPPMESH_SQL_CACHE = saved
    })

    it('starts nothing for a project without SQL', async () => {
      assert.equal(await startSql(await loadProject(dir)), undefined)
    })

    it('starts opening DuckDB for SQL the cache has not seen, and the sql rule binds with it', async () => {
      writeFileSync(path.join(dir, 'model/items/flow.yaml'), flow(clean('SELECT id FROM raw')))
      const project = await loadProject(dir)
      const started = await startSql(project)
      try {
        assert.ok(started?.binder, 'a binder is being opened')
        const check = await checkSql(validateProject(project).context, started)
        assert.equal(check.bound, 1)
        assert.match(check.findings[0]?.message ?? '', /lacks field "price"/)
        // the binder is still open for its opener: the sql rule leaves closing it to startSql's caller
        assert.deepEqual(await (await started.binder).bind({sql: 'SELECT 1 AS x', tables: [], target: {state: 's', columns: [{name: 'x', type: 'INTEGER'}]}}), [])
      } finally {
        closeSqlStart(started)
      }
    })

    it('starts nothing once the cache answers every transition', async () => {
      writeFileSync(path.join(dir, 'model/items/flow.yaml'), flow(clean('SELECT id FROM raw')))
      const project = await loadProject(dir)
      await checkSql(validateProject(project).context, {cache: SqlBindCache.load()})
      const started = await startSql(project)
      assert.ok(started)
      assert.equal(started.binder, undefined)
    })

    it('starts nothing for a flow too broken to say what it binds, and validation reports the break', async () => {
      writeFileSync(path.join(dir, 'model/items/flow.yaml'), flow(clean('SELECT id, price FROM raw').replace('from: [raw]', 'from: raw')))
      const started = await startSql(await loadProject(dir))
      assert.equal(started?.binder, undefined)
      const result = await validateDirectory(dir)
      assert.equal(result.valid, false)
    })
  })

  describe('loads DuckDB only when it must', () => {
    /** Validates `project` in a fresh process and says whether the DuckDB library got mapped into it. */
    function loadsDuckdb(project: string, env: NodeJS.ProcessEnv = {}): boolean {
      const script = `const {validateDirectory} = await import(${JSON.stringify(path.join(ROOT, 'src/core/validate/validate.ts'))});
        const r = await validateDirectory(${JSON.stringify(project)});
        const {readFileSync} = await import('node:fs');
        console.log(JSON.stringify({valid: r.valid, duckdb: readFileSync('/proc/self/maps', 'utf8').includes('libduckdb')}))`
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {cwd: ROOT, encoding: 'utf8', env: {...process.env, ...env}})
      assert.equal(r.status, 0, r.stderr)
      const out = JSON.parse(r.stdout)
      assert.equal(out.valid, true)
      return out.duckdb
    }

    it('not for a project without SQL', () => {
      assert.equal(loadsDuckdb(fixture('validate', 'valid-minimal'), {DAPPMESH_SQL_CACHE: 'off'}), false)
    })

    it('for a project with SQL the cache has not seen, and not once the cache has seen it', () => {
      const cache = path.join(tmp, 'cache.json')
      const orders = path.join(ROOT, 'examples/orders')
      assert.equal(loadsDuckdb(orders, {DAPPMESH_SQL_CACHE: cache}), true)
      assert.equal(loadsDuckdb(orders, {DAPPMESH_SQL_CACHE: cache}), false)
    })
  })
})
