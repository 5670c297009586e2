import assert from 'node:assert/strict'

import {postgresRelation} from '../../src/core/ingest/postgres.js'
import {remoteKind, remoteLabel} from '../../src/core/ingest/remote.js'
import {parseS3Uri} from '../../src/core/ingest/s3.js'
import {storageEnvName} from '../../src/core/storage/env.js'
import {postgresTarget} from '../../src/core/storage/postgres-connect.js'

function thrown(work: () => unknown): {exit?: number; message: string} {
  try {
    work()
  } catch (error) {
    return error as {exit?: number; message: string}
  }

  throw new Error('expected a throw')
}

describe('s3 and postgres sources and storages: settings', () => {
  it('tells s3:// and postgres:// locations from files and http URLs', () => {
    assert.deepEqual(['s3://b/k', 'postgres://h/db', 'postgresql://h/db', 'http://h/x.csv', 'data/x.csv'].map((l) => remoteKind(l)), ['s3', 'postgres', 'postgres', undefined, undefined])
  })

  it('never shows a password in a source label', () => {
    assert.equal(remoteLabel('postgres://u:s3cret@h:5432/db?table=t'), 'postgres://u:***@h:5432/db?table=t')
  })

  it('reads a postgres source\'s table, schema-qualified and quoted, or its query', () => {
    assert.deepEqual(postgresRelation('postgres://u@h/db?table=src.sales', 'in'), {url: 'postgres://u@h/db', relation: '"src"."sales"'})
    assert.equal(postgresRelation('postgres://u@h/db?query=SELECT%201', 'in').relation, '(SELECT 1) AS source')
  })

  it('refuses a postgres source with neither a table nor a query, with exit 2', () => {
    const error = thrown(() => postgresRelation('postgres://u@h/db', 'sales-in'))
    assert.equal(error.exit, 2)
    assert.match(error.message, /^input port sales-in: the postgres source postgres:\/\/u@h\/db names neither a table nor a query/)
  })

  it('refuses an s3 source that is not an s3:// URI, with exit 2', () => {
    const error = thrown(() => parseS3Uri('https://bucket/key', 'sales-in'))
    assert.equal(error.exit, 2)
    assert.equal(error.message, 'input port sales-in: "https://bucket/key" is not an s3:// URI')
    assert.deepEqual(parseS3Uri('s3://inbox/sales/', 'sales-in'), {bucket: 'inbox', key: 'sales/'})
  })

  it('names a storage\'s variables after it, upper-cased with - as _', () => {
    assert.equal(storageEnvName('my-lake.eu', 'URL'), 'DAPPMESH_STORAGE_MY_LAKE_EU_URL')
  })

  it('takes a Postgres URL\'s parts, decoding them, and falls back to libpq variables', () => {
    const target = postgresTarget('postgres://app%40x:p%2Fw@db.local:6543/shop', {})
    assert.deepEqual({...target.config, where: target.where}, {host: 'db.local', port: 6543, user: 'app@x', password: 'p/w', database: 'shop', where: 'db.local:6543'})
    const libpq = postgresTarget(undefined, {PGHOST: 'h', PGUSER: 'u', PGPASSWORD: 'p'})
    assert.deepEqual(libpq.config, {host: 'h', port: 5432, user: 'u', password: 'p', database: 'u'})
  })
})
