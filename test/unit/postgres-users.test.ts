import assert from 'node:assert/strict'

import {accessEnvName, accessUsersPlan} from '../../src/core/storage/access-users.js'
import {accessRoleName, createRoleSql, grantsSql, scramVerifier, setPasswordSql, verifierMatches} from '../../src/core/storage/postgres-users.js'

const plan = {schema: 'or"ders', users: {read: {name: 'db_read', password: 'r'}, write: {name: 'db_write', password: 'w'}, admin: {name: 'db_admin', password: 'a'}}}

describe('postgres access users: the SQL', () => {
  it('names a role <root user>_<access>', () => {
    assert.equal(accessRoleName('operational', 'read'), 'operational_read')
    assert.equal(accessRoleName('operational', 'admin'), 'operational_admin')
  })

  it('shortens a role name that would pass Postgres\' 63 bytes, keeping two long names apart by a hash', () => {
    const a = accessRoleName('x'.repeat(60), 'write')
    const b = accessRoleName(`${'x'.repeat(59)}y`, 'write')
    assert.ok(Buffer.byteLength(a) <= 63, a)
    assert.match(a, /_[0-9a-f]{8}_write$/)
    assert.notEqual(a, b)
  })

  it('quotes every identifier and literal, so a name or password with quotes stays one token', () => {
    assert.equal(createRoleSql('a"b', "SCRAM-SHA-256$4096:s'alt$k:k"), `CREATE ROLE "a""b" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD 'SCRAM-SHA-256$4096:s''alt$k:k'`)
    assert.equal(setPasswordSql('x', "v'"), `ALTER ROLE "x" WITH PASSWORD 'v'''`)
    const grants = grantsSql('my"db', plan)
    assert.ok(grants.includes('GRANT USAGE ON SCHEMA "or""ders" TO "db_read"'), grants.join('\n'))
    assert.ok(grants.includes('GRANT CONNECT ON DATABASE "my""db" TO "db_read", "db_write", "db_admin"'))
  })

  it('grants read SELECT only, write the table rights and CREATE in the schema, and admin write\'s role; never a superuser or CREATEROLE', () => {
    const grants = grantsSql('db', plan)
    assert.deepEqual(grants.filter((g) => g.includes('TO "db_read"') && g.includes('TABLES')).map((g) => /GRANT (.*) ON/.exec(g)?.[1]), ['SELECT', 'SELECT', 'SELECT'])
    assert.ok(grants.includes('GRANT USAGE, CREATE ON SCHEMA "or""ders" TO "db_write"'))
    assert.ok(grants.includes('GRANT "db_write" TO "db_admin"'))
    assert.ok(grants.includes('ALTER DEFAULT PRIVILEGES FOR ROLE "db_write" IN SCHEMA "or""ders" GRANT SELECT ON TABLES TO "db_read"'), 'tables a publish makes later are readable')
    assert.ok(!grants.some((g) => /SUPERUSER|CREATEROLE|ALL PRIVILEGES/.test(g)))
    assert.match(createRoleSql('x', 'v'), / NOSUPERUSER NOCREATEDB NOCREATEROLE /)
  })

  it('makes a SCRAM-SHA-256 verifier that opens with its password only, and recognises none, md5 or garbage as not matching', () => {
    const verifier = scramVerifier('s3cret')
    assert.match(verifier, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/)
    assert.ok(!verifier.includes('s3cret'))
    assert.ok(verifierMatches(verifier, 's3cret'))
    assert.ok(!verifierMatches(verifier, 's3cret2'))
    assert.ok(!verifierMatches(null, 's3cret'))
    assert.ok(!verifierMatches('md5abcdef', 's3cret'))
    assert.ok(!verifierMatches('SCRAM-SHA-256$x', 's3cret'))
  })

  it('gives each salt its own verifier, so the same password does not show as the same stored value', () => {
    assert.notEqual(scramVerifier('same'), scramVerifier('same'))
  })
})

describe('postgres access users: the environment of the init container', () => {
  it('reads each user from DAPPMESH_ACCESS_<STORAGE>_<ACCESS>_<KEY>, apart from the storage\'s own variables', () => {
    assert.equal(accessEnvName('operational-db', 'write', 'PASSWORD'), 'DAPPMESH_ACCESS_OPERATIONAL_DB_WRITE_PASSWORD')
    const env = Object.fromEntries(['read', 'write', 'admin'].flatMap((a) => [[`DAPPMESH_ACCESS_DB_${a.toUpperCase()}_USERNAME`, `db_${a}`], [`DAPPMESH_ACCESS_DB_${a.toUpperCase()}_PASSWORD`, `p-${a}`]]))
    const got = accessUsersPlan('db', 'orders', env)
    assert.deepEqual(got, {schema: 'orders', users: {read: {name: 'db_read', password: 'p-read'}, write: {name: 'db_write', password: 'p-write'}, admin: {name: 'db_admin', password: 'p-admin'}}})
  })

  it('refuses a missing password with a usage error naming the variable, and never shows a password', () => {
    const env = {DAPPMESH_ACCESS_DB_READ_USERNAME: 'db_read', DAPPMESH_ACCESS_DB_READ_PASSWORD: 'p-read', DAPPMESH_ACCESS_DB_WRITE_USERNAME: 'db_write'}
    assert.throws(() => accessUsersPlan('db', 'orders', env), (error: Error & {exit?: number}) => {
      assert.equal(error.exit, 2)
      assert.match(error.message, /DAPPMESH_ACCESS_DB_WRITE_PASSWORD is not set/)
      assert.doesNotMatch(error.message, /p-read/)
      return true
    })
  })
})
