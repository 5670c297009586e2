/**
 * `postgres` input sources (§7): the rows of a table or a query, read with COPY into a CSV file
 * in the run's scratch dir (streamed: memory stays bounded), which the run then reads like any
 * CSV input: as text, cast to the input state's types by the schema checks.
 *
 *   source: {type: postgres, uri: "postgres://USER@HOST:PORT/DATABASE?table=SCHEMA.TABLE"}
 *   source: {type: postgres, uri: "postgres://USER@HOST:PORT/DATABASE?query=SELECT …"}
 *
 * The password stays out of the model: DAPPMESH_INPUT_<PORT>_PASSWORD, else PGPASSWORD (or all of
 * the URL in DAPPMESH_INPUT_<PORT>_URL, which wins over the source's uri).
 */
import {createWriteStream} from 'node:fs'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'

import {quoteIdent} from '../engine/types.js'
import {ExitCode, UserError} from '../errors.js'
import {inputEnv, inputEnvName} from '../storage/env.js'
import {connectPostgres, postgresError, type PostgresSubject, postgresTarget, redact} from '../storage/postgres-connect.js'
import type {Pulled} from './http.js'

/** The relation a source URI names: `?table=` (quoted, schema-qualified or not) or `?query=`. */
export function postgresRelation(uri: string, port: string): {url: string; relation: string} {
  let parsed: URL
  try {
    parsed = new URL(uri)
  } catch {
    throw new UserError(`input port ${port}: "${redact(uri)}" is not a Postgres URL`, {exit: ExitCode.usage, suggestions: [EXAMPLE]})
  }

  const table = parsed.searchParams.get('table')
  const query = parsed.searchParams.get('query')
  if ((table === null) === (query === null)) {
    throw new UserError(`input port ${port}: the postgres source ${redact(uri)} names neither a table nor a query (or both)`, {
      exit: ExitCode.usage,
      suggestions: [EXAMPLE],
    })
  }

  parsed.search = ''
  const relation = table === null ? `(${query}) AS source` : table.split('.').map((part) => quoteIdent(part)).join('.')
  return {url: parsed.toString(), relation}
}

const EXAMPLE = 'Write the uri as postgres://USER@HOST:PORT/DATABASE?table=SCHEMA.TABLE or ...?query=SELECT%20...'

export async function pullPostgres(uri: string, scratchDir: string, port: string, fileName: string, env: NodeJS.ProcessEnv): Promise<Pulled> {
  const {url, relation} = postgresRelation(inputEnv(env, port, 'URL') ?? uri, port)
  const password = inputEnv(env, port, 'PASSWORD')
  const target = postgresTarget(url, password ? {...env, PGPASSWORD: password} : env)
  const subject: PostgresSubject = {
    label: `input port ${port}`,
    fix: `Set ${inputEnvName(port, 'PASSWORD')} (or PGPASSWORD), or the whole URL in ${inputEnvName(port, 'URL')}.`,
  }
  const client = await connectPostgres(target, subject)
  const file = join(scratchDir, `${fileName}.csv`)
  try {
    const {to} = await import('pg-copy-streams')
    await pipeline(client.query(to(`COPY (SELECT * FROM ${relation}) TO STDOUT WITH (FORMAT csv, HEADER true)`)), createWriteStream(file))
  } catch (error) {
    const mapped = postgresError(error, target, subject)
    if (mapped !== error) throw mapped
    // An answer from the server (no such table, a query that does not parse): the source is wrong.
    if ((error as {severity?: string}).severity) {
      throw new UserError(`input port ${port}: Postgres at ${target.where} could not read ${relation}: ${(error as Error).message}`, {
        suggestions: ['Check the table or query in the uri of the InputPort source.'],
        cause: error,
      })
    }

    throw error
  } finally {
    await client.end().catch(() => {})
  }

  return {file, format: 'csv'}
}
