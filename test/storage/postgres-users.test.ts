import assert from 'node:assert/strict'

import pg from 'pg'

import {Engine} from '../../src/core/engine/session.js'
import {stateTable, type StateTable} from '../../src/core/engine/types.js'
import {ensureStorageUsers} from '../../src/core/storage/access-users.js'
import {type AccessUsersPlan, ensureAccessUsers} from '../../src/core/storage/postgres-users.js'
import {postgresqlDriver} from '../../src/core/storage/postgresql.js'
import {postgresBinDir, requireOrSkip, startPostgres, type TestPostgres} from '../helpers/postgres.js'
import {cli} from '../helpers/cli.js'
import {assertResult} from '../helpers/result-schemas.js'
import {runInfo, withDriver} from '../helpers/storage.js'

const SCHEMA = 'orders'

const clean: StateTable = stateTable({schema: 'orders', version: 'v1', state: 'clean'}, {
  name: 'clean',
  fields: [{name: 'id', type: 'long', primaryKey: true}, {name: 'note', type: 'string'}],
} as never, 'orders')

/** A fresh plan: new passwords every time, as the operator generates them. */
function plan(passwords: Partial<Record<'read' | 'write' | 'admin', string>> = {}): AccessUsersPlan {
  return {
    schema: SCHEMA,
    users: {
      read: {name: 'db_read', password: passwords.read ?? 'read-pass-1'},
      write: {name: 'db_write', password: passwords.write ?? 'write-pass-1'},
      admin: {name: 'db_admin', password: passwords.admin ?? 'admin-pass-1'},
    },
  }
}

describe('postgres access users (a real Postgres)', function () {
  this.timeout(60_000)
  let server: TestPostgres
  const clients: pg.Client[] = []

  /** A client connected as `user`; closed after the test. */
  const as = async (user: string, password: string): Promise<pg.Client> => {
    const client = new pg.Client({host: server.host, port: server.port, user, password, database: server.database})
    client.on('error', () => {})
    await client.connect()
    clients.push(client)
    return client
  }
  const root = () => as(server.user, server.password)
  /** The error code a statement fails with as `client`, or 'ok'. */
  const outcome = (client: pg.Client, sql: string) => client.query(sql).then(() => 'ok', (error: {code?: string}) => error.code ?? 'error')
  /** Everything the setup decides about roles, schema and tables, to compare before and after. */
  const catalog = () =>
    server.psql(`SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolpassword FROM pg_authid WHERE rolname LIKE 'db\\_%' ORDER BY 1;
      SELECT nspname, pg_get_userbyid(nspowner), nspacl FROM pg_namespace WHERE nspname = '${SCHEMA}';
      SELECT relname, pg_get_userbyid(relowner), relacl FROM pg_class WHERE relnamespace = '${SCHEMA}'::regnamespace ORDER BY 1;
      SELECT defaclrole::regrole, defaclacl FROM pg_default_acl ORDER BY 1;
      SELECT roleid::regrole, member::regrole FROM pg_auth_members WHERE member::regrole::text LIKE 'db\\_%' ORDER BY 1, 2`)

  before(async function () {
    if (!postgresBinDir()) requireOrSkip(this, 'Postgres (scripts/install-system-deps.sh)')
    server = await startPostgres()
  })

  after(async () => {
    await server?.stop()
  })

  beforeEach(() => {
    server.psql(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
    server.psql("DO $$ DECLARE r text; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'db\\_%' LOOP EXECUTE format('DROP OWNED BY %I', r); EXECUTE format('DROP ROLE %I', r); END LOOP; END $$")
  })

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})))
  })

  it('lets the read user SELECT the product\'s tables but not INSERT into them', async () => {
    await ensureAccessUsers(await root(), plan())
    const write = await as('db_write', 'write-pass-1')
    await write.query(`CREATE TABLE ${SCHEMA}.t (id int); INSERT INTO ${SCHEMA}.t VALUES (1)`)
    const read = await as('db_read', 'read-pass-1')
    assert.deepEqual((await read.query(`SELECT id FROM ${SCHEMA}.t`)).rows, [{id: 1}], 'a table write made after the setup is readable')
    assert.equal(await outcome(read, `INSERT INTO ${SCHEMA}.t VALUES (2)`), '42501')
    assert.equal(await outcome(read, `CREATE TABLE ${SCHEMA}.mine (id int)`), '42501')
  })

  it('lets the write user INSERT, but not DROP SCHEMA, CREATE ROLE or CREATE DATABASE', async () => {
    await ensureAccessUsers(await root(), plan())
    const write = await as('db_write', 'write-pass-1')
    assert.equal(await outcome(write, `CREATE TABLE ${SCHEMA}.t (id int)`), 'ok')
    assert.equal(await outcome(write, `INSERT INTO ${SCHEMA}.t VALUES (1)`), 'ok')
    assert.equal(await outcome(write, `DROP SCHEMA ${SCHEMA} CASCADE`), '42501')
    assert.equal(await outcome(write, 'CREATE ROLE intruder'), '42501')
    assert.equal(await outcome(write, 'CREATE DATABASE other'), '42501')
    assert.equal(await outcome(write, 'CREATE SCHEMA other'), '42501')
  })

  it('lets the runtime publish as the write user (COPY into a new table, primary key, drop and rename), and read it back', async () => {
    // A state published earlier by the root user (before access users existed) is taken over too.
    server.psql(`CREATE SCHEMA ${SCHEMA}; CREATE TABLE ${SCHEMA}.orders__clean (id bigint, note text); INSERT INTO ${SCHEMA}.orders__clean VALUES (99, 'old')`)
    const changes = await ensureAccessUsers(await root(), plan())
    assert.ok(changes.includes('made db_write the owner of table orders.orders__clean'), changes.join('; '))
    const engine = await Engine.open({threads: 1})
    try {
      await engine.run("CREATE TABLE staged AS SELECT * FROM (VALUES (1::BIGINT, 'a'), (2::BIGINT, 'b')) t(id, note)")
      const url = `postgres://db_write:write-pass-1@${server.host}:${server.port}/${server.database}`
      await withDriver(postgresqlDriver, {name: 'operational', engine: 'postgresql'}, engine, {DAPPMESH_STORAGE_OPERATIONAL_URL: url}, (d) =>
        d.writeStates([{state: clean, staged: 'staged', mode: 'replace'}, {state: {...clean, table: 'orders__clean__rejected', primaryKey: []}, staged: 'staged', mode: 'append'}], runInfo('r1')))
      const read = await as('db_read', 'read-pass-1')
      assert.deepEqual((await read.query(`SELECT id, note FROM ${SCHEMA}.orders__clean ORDER BY id`)).rows, [{id: '1', note: 'a'}, {id: '2', note: 'b'}])
      assert.equal((await read.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.orders__clean__rejected`)).rows[0].n, 2)
    } finally {
      await engine.close()
    }
  })

  it('makes the admin user the owner of the schema, able to drop the write user\'s tables, and not a superuser', async () => {
    await ensureAccessUsers(await root(), plan())
    assert.equal(server.psql(`SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = '${SCHEMA}'`).trim(), 'db_admin')
    assert.equal(server.psql("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'db_admin'").trim(), 'f|f|f')
    const write = await as('db_write', 'write-pass-1')
    await write.query(`CREATE TABLE ${SCHEMA}.t (id int)`)
    const admin = await as('db_admin', 'admin-pass-1')
    assert.equal(await outcome(admin, `ALTER TABLE ${SCHEMA}.t ADD COLUMN note text`), 'ok')
    assert.equal(await outcome(admin, `DROP TABLE ${SCHEMA}.t`), 'ok')
    // A table admin makes by hand becomes write's at the next setup, so a publish can replace it.
    await admin.query(`CREATE TABLE ${SCHEMA}.by_hand (id int)`)
    assert.deepEqual(await ensureAccessUsers(await root(), plan()), ['made db_write the owner of table orders.by_hand'])
    assert.equal(await outcome(admin, `ALTER TABLE ${SCHEMA}.by_hand ADD COLUMN note text`), 'ok', 'admin keeps every right on it')
    assert.equal(await outcome(admin, 'CREATE ROLE intruder'), '42501')
    assert.equal(await outcome(admin, 'ALTER ROLE db_admin SUPERUSER'), '42501')
  })

  it('changes nothing when run again with the same passwords', async () => {
    await ensureAccessUsers(await root(), plan())
    await (await as('db_write', 'write-pass-1')).query(`CREATE TABLE ${SCHEMA}.t (id int)`)
    const before = catalog()
    assert.deepEqual(await ensureAccessUsers(await root(), plan()), [])
    assert.equal(catalog(), before)
  })

  it('puts back attributes someone changed (a superuser access user is made an ordinary one again)', async () => {
    await ensureAccessUsers(await root(), plan())
    server.psql('ALTER ROLE db_write SUPERUSER CREATEROLE')
    assert.deepEqual(await ensureAccessUsers(await root(), plan()), ['reset the attributes of role db_write'])
    assert.equal(server.psql("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = 'db_write'").trim(), 'f|f')
  })

  it('rotates a password: the new one opens, the old one is refused, the others are untouched', async () => {
    await ensureAccessUsers(await root(), plan())
    const changes = await ensureAccessUsers(await root(), plan({write: 'write-pass-2'}))
    assert.deepEqual(changes, ['set the password of role db_write'])
    await as('db_write', 'write-pass-2')
    await assert.rejects(as('db_write', 'write-pass-1'), (error: {code?: string}) => error.code === '28P01')
    await as('db_read', 'read-pass-1')
  })

  it('never sends a password in clear: the server stores (and its log could show) only a SCRAM verifier', async () => {
    await ensureAccessUsers(await root(), plan())
    const stored = server.psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'db_read'").trim()
    assert.match(stored, /^SCRAM-SHA-256\$4096:/)
    assert.doesNotMatch(stored, /read-pass-1/)
  })

  it('refuses to run as a user that is not a superuser, and says to use the root user', async () => {
    await ensureAccessUsers(await root(), plan())
    await assert.rejects(ensureAccessUsers(await as('db_admin', 'admin-pass-1'), plan()), /"db_admin" is not a superuser.*/)
  })

  it('reads the root URL and the users from the environment, as the init container gets them', async () => {
    const env: NodeJS.ProcessEnv = {DAPPMESH_STORAGE_DB_URL: server.url}
    for (const access of ['read', 'write', 'admin']) {
      env[`DAPPMESH_ACCESS_DB_${access.toUpperCase()}_USERNAME`] = `db_${access}`
      env[`DAPPMESH_ACCESS_DB_${access.toUpperCase()}_PASSWORD`] = `${access}-pass-1`
    }
    const first = await ensureStorageUsers({storages: ['db'], schema: SCHEMA, env})
    assert.deepEqual(first.storages[0].changes.slice(0, 3), ['created role db_read', 'created role db_write', 'created role db_admin'])
    assert.deepEqual((await ensureStorageUsers({storages: ['db'], schema: SCHEMA, env})).storages, [{storage: 'db', changes: []}])
  })

  it('is what `dappmesh storage users` does: its --json result as documented, passwords nowhere in its output; a missing variable is exit 2', () => {
    const env: NodeJS.ProcessEnv = {DAPPMESH_STORAGE_DB_URL: server.url}
    for (const access of ['read', 'write', 'admin']) {
      env[`DAPPMESH_ACCESS_DB_${access.toUpperCase()}_USERNAME`] = `db_${access}`
      env[`DAPPMESH_ACCESS_DB_${access.toUpperCase()}_PASSWORD`] = `secret-${access}-value`
    }
    const r = cli(['storage', 'users', '--storage', 'db', '--schema', SCHEMA, '--json'], {env})
    assert.equal(r.code, 0, r.stderr)
    assertResult('storage:users', JSON.parse(r.stdout))
    assert.doesNotMatch(r.stdout + r.stderr, /secret-(read|write|admin)-value/)
    const missing = cli(['storage', 'users', '--storage', 'db', '--schema', SCHEMA], {env: {...env, DAPPMESH_ACCESS_DB_ADMIN_PASSWORD: ''}})
    assert.equal(missing.code, 2, missing.stderr)
    assert.match(missing.stderr, /DAPPMESH_ACCESS_DB_ADMIN_PASSWORD is not set/)
  })
})
