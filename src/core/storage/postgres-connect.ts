/**
 * Connecting to a Postgres, for the postgresql storage driver and for `postgres` input sources:
 * where to connect from the environment, and the connection failures a user can fix turned into
 * typed errors (unreachable, refused credentials, missing database: exit 3) that name the server.
 */
import type {Client, ClientConfig} from 'pg'

import {ExitCode, UserError} from '../errors.js'

export interface PostgresTarget {
  config: ClientConfig
  /** `host:port`, for messages. */
  where: string
  user: string
  database: string
}

/** What failed to connect, for messages: `storage "operational"`, `input port "orders"`. */
export interface PostgresSubject {
  label: string
  /** How to point dappmesh at the right server, e.g. `Set DAPPMESH_STORAGE_X_URL=postgres://…`. */
  fix: string
  /** The error for an unreachable server (default: a UserError with exit 3 naming host and port). */
  unreachable?: (where: string, cause: unknown) => UserError
}

/** Codes of a Postgres that cannot be reached (as opposed to one that answered "no"). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE'])

/**
 * A target from a `postgres://user:password@host:port/database` URL, else libpq's variables
 * (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) read from `env`, with libpq's defaults.
 * `env` is passed rather than read from process.env so a caller (a test) controls it.
 */
export function postgresTarget(url: string | undefined, env: NodeJS.ProcessEnv): PostgresTarget {
  if (url) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new UserError(`"${redact(url)}" is not a Postgres URL`, {
        exit: ExitCode.usage,
        suggestions: ['Write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE.'],
      })
    }

    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new UserError(`"${redact(url)}" is not a Postgres URL (scheme ${parsed.protocol})`, {
        exit: ExitCode.usage,
        suggestions: ['Write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE.'],
      })
    }

    const host = parsed.hostname || 'localhost'
    const port = Number(parsed.port || 5432)
    const user = decodeURIComponent(parsed.username) || env.PGUSER || 'postgres'
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || env.PGDATABASE || user
    const password = parsed.password ? decodeURIComponent(parsed.password) : env.PGPASSWORD
    return {config: {host, port, user, password, database}, where: `${host}:${port}`, user, database}
  }

  const host = env.PGHOST || 'localhost'
  const port = Number(env.PGPORT || 5432)
  const user = env.PGUSER || 'postgres'
  const database = env.PGDATABASE || user
  return {config: {host, port, user, password: env.PGPASSWORD, database}, where: `${host}:${port}`, user, database}
}

/** A URL with its password replaced, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@')
}

/** Turns a connection failure into the typed error a user can act on; anything else is returned as is. */
export function postgresError(error: unknown, target: PostgresTarget, subject: PostgresSubject): unknown {
  const code = (error as {code?: string}).code ?? ''
  const message = error instanceof Error ? error.message : String(error)
  if (UNREACHABLE.has(code) || /timeout|terminated unexpectedly/i.test(message)) {
    if (subject.unreachable) return subject.unreachable(target.where, error)
    return new UserError(`${subject.label}: Postgres is unreachable at ${target.where} (${message})`, {
      exit: ExitCode.unreachable,
      suggestions: [`Start Postgres at ${target.where}, or point dappmesh at the right server. ${subject.fix}`],
      cause: error,
    })
  }

  if (code === '28P01' || code === '28000') {
    return new UserError(`${subject.label}: Postgres at ${target.where} refused user "${target.user}" (${message})`, {
      exit: ExitCode.unreachable,
      suggestions: [`Check the user and password. ${subject.fix}`],
      cause: error,
    })
  }

  if (code === '3D000') {
    return new UserError(`${subject.label}: database "${target.database}" does not exist on Postgres at ${target.where}`, {
      exit: ExitCode.unreachable,
      suggestions: [`Create it (createdb -h HOST -p PORT ${target.database}) or name another database. ${subject.fix}`],
      cause: error,
    })
  }

  return error
}

/** A connected client, or the typed error of `postgresError`. pg is loaded here, on first use. */
export async function connectPostgres(target: PostgresTarget, subject: PostgresSubject): Promise<Client> {
  const {default: pg} = await import('pg')
  const client = new pg.Client({...target.config, connectionTimeoutMillis: 10_000, application_name: 'dappmesh'})
  // A server that goes away between queries emits 'error' on the client; the next query fails
  // with it too, and that is where we report it. Without a listener Node would crash the process.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => {})
    throw postgresError(error, target, subject)
  }

  return client
}
