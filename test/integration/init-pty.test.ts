import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parse} from 'yaml'

import {validateDirectory} from '../../src/core/validate/validate.js'
import {BIN} from '../helpers/cli.js'
import {KEY, PtySession, plain} from '../helpers/pty.js'

const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0

describe('dappmesh init on a terminal (pseudo-terminal)', function () {
  this.timeout(90_000)
  let tmp: string
  let session: PtySession | undefined

  before(function () {
    if (!hasScript) this.skip() // util-linux `script` makes the pseudo-terminal
  })
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-pty-'))
  })
  afterEach(() => {
    session?.kill()
    session = undefined
    rmSync(tmp, {recursive: true, force: true})
  })

  it('asks every question, asks again after a wrong answer, and writes a project that validates', async () => {
    const dir = path.join(tmp, 'webshop')
    session = new PtySession(`${process.execPath} ${BIN} init ${dir}`)
    const s = session

    await s.expect('Product name (webshop)')
    await s.type(...'Bad_Name', KEY.enter)
    await s.expect(/"Bad_Name" is not a valid product name: .*lower-case letters, digits and '-'/)
    await s.type(...Array(8).fill(KEY.backspace), ...'shop-2', KEY.enter)
    await s.expect('✔ Product name shop-2')

    await s.expect('? Domain')
    await s.type(...'sales', KEY.enter)
    await s.expect('? Mesh (default)')
    await s.type(...'acme', KEY.enter)

    await s.expect('? Owner e-mail')
    await s.type(...'not an email', KEY.enter)
    await s.expect('is not an e-mail-like owner')
    await s.type(...Array(12).fill(KEY.backspace), ...'"Shop: Team" <shop@example.com>', KEY.enter)
    await s.expect('✔ Owner e-mail')

    await s.expect('? Description (optional)')
    await s.type(...'Orders: what "we" sell', KEY.enter)

    await s.expect('? First entities (names separated by commas) (shop-2)')
    await s.type(...'orders, 2fa', KEY.enter)
    await s.expect('"2fa" is not a valid entity name')
    await s.type(...Array(3).fill(KEY.backspace), ...'line-items', KEY.enter)
    await s.expect('✔ First entities')

    // analytics (embedded duckdb) is ticked already; tick operational, the first choice, too
    await s.expect('? Storage')
    await s.type(KEY.space, KEY.enter)
    await s.expect('? Operational engine')
    await s.type(KEY.down, KEY.enter) // surrealdb
    await s.expect('? Analytics engine')
    await s.type(KEY.down, KEY.down, KEY.enter) // clickhouse
    await s.expect('? Contract specification')
    await s.type(KEY.enter)

    await s.expect('Next steps:')
    assert.equal(await s.wait(), 0)

    const product = parse(readFileSync(path.join(dir, 'dappmesh.yaml'), 'utf8'))
    assert.equal(product.metadata.name, 'shop-2')
    assert.deepEqual(product.spec, {domain: 'sales', owner: '"Shop: Team" <shop@example.com>', version: '0.1.0', description: 'Orders: what "we" sell'})
    assert.equal(parse(readFileSync(path.join(dir, 'mesh/domain.yaml'), 'utf8')).spec.mesh, 'acme')
    assert.equal(parse(readFileSync(path.join(dir, 'storage/operational.yaml'), 'utf8')).spec.engine, 'surrealdb')
    assert.equal(parse(readFileSync(path.join(dir, 'storage/analytics.yaml'), 'utf8')).spec.engine, 'clickhouse')
    assert.equal(existsSync(path.join(dir, 'storage/object.yaml')), false)
    for (const e of ['orders', 'line-items']) {
      assert.ok(existsSync(path.join(dir, 'model', e, 'schema.yaml')), `model/${e}/schema.yaml`)
      assert.ok(existsSync(path.join(dir, 'tests', e, 'inputs', `${e}-events.csv`)), `tests/${e}/inputs/${e}-events.csv`)
      assert.equal(existsSync(path.join(dir, 'services', e, 'Containerfile')), false, `no services/${e}/Containerfile`)
    }
    // Valid; clickhouse has no driver yet, so each flow stored there is a `storage` warning.
    const result = await validateDirectory(dir)
    assert.deepEqual(result.findings.map((f) => `${f.severity} ${f.rule} ${f.file}`), ['warning storage model/line-items/flow.yaml', 'warning storage model/orders/flow.yaml'])
    assert.equal(result.valid, true)
  })

  it('asks only what the flags leave out', async () => {
    const dir = path.join(tmp, 'billing')
    session = new PtySession(`${process.execPath} ${BIN} init ${dir} --domain finance --owner fin@example.com --entity invoices --storage object=minio`)
    const s = session
    await s.expect('? Product name (billing)')
    await s.type(KEY.enter)
    await s.expect('? Mesh (default)')
    await s.type(KEY.enter)
    await s.expect('? Description (optional)')
    await s.type(KEY.enter)
    await s.expect('? Contract specification')
    await s.type(KEY.enter)
    await s.expect('Next steps:')
    assert.equal(await s.wait(), 0)
    assert.doesNotMatch(plain(s.output), /\? (Domain|Owner|First entities|Storage)/)
    const output = parse(readFileSync(path.join(dir, 'services/invoices/output.yaml'), 'utf8'))
    assert.equal(output.spec.type, 'files')
    assert.equal(output.spec.storage, 'object')
    assert.equal((await validateDirectory(dir)).valid, true)
  })

  it('writes nothing and exits 130 when the user presses Ctrl-C', async () => {
    const dir = path.join(tmp, 'cancelled')
    session = new PtySession(`${process.execPath} ${BIN} init ${dir}`)
    await session.expect('? Product name')
    await session.type(KEY.ctrlC)
    await session.expect('init cancelled; nothing was written')
    assert.equal(await session.wait(), 130)
    assert.equal(existsSync(dir), false)
  })
})
