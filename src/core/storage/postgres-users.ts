/**
 * Per-access database users of a postgresql storage (read, write, admin), made and kept right by
 * the storage's root user: what a DataRole's storage grant hands out instead of the root
 * credentials, and what the product's runtime itself connects as (write).
 *
 * - read: USAGE on the product's schema, SELECT on its tables (those there now, and by default
 *   privileges those that write or admin make later: a publish replaces a state's table each run).
 * - write: read's rights, plus INSERT/UPDATE/DELETE/TRUNCATE, and CREATE in the schema: a publish
 *   COPYs into a new table, adds its primary key, drops the old one and renames the new one, which
 *   only a table's owner may do, so the tables a run makes are write's own. It cannot drop the
 *   schema, make roles or databases.
 * - admin: owns the schema (may drop any table in it) and is a member of write (may alter write's
 *   tables); not a superuser, no CREATEROLE, no CREATEDB.
 *
 * Idempotent: roles, passwords and the schema's owner are compared first and changed only when
 * they differ, so running it again changes nothing; a password is compared with the stored SCRAM
 * verifier and sent as a verifier (never in clear, so neither the wire nor a server log with
 * log_statement=ddl ever holds it). Rotation is setting a new value in the user's Secret: the next
 * run ALTERs the role. The roles live in the storage's database as long as its volume: removing a
 * grant removes the grantee's access to the Secret (its RoleBinding goes), not the role.
 */
import {createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual} from 'node:crypto'

import {quoteIdent, quoteLiteral} from '../engine/types.js'
import {ExitCode, UserError} from '../errors.js'

export const ACCESS_LEVELS = ['read', 'write', 'admin'] as const
export type AccessLevel = (typeof ACCESS_LEVELS)[number]

/** Postgres truncates longer identifiers (silently): a role name must fit. */
const MAX_IDENTIFIER = 63
const SCRAM_ITERATIONS = 4096

/** The attributes every access role has, whatever someone set on it in between. */
const ROLE_ATTRIBUTES = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT'
const WRITE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'

/**
 * The database role of an access level: `<base>_<access>` (base: the storage's root user). A base
 * too long for Postgres' 63 bytes is shortened and given a hash of the whole, so two long names
 * cannot meet.
 */
export function accessRoleName(base: string, access: AccessLevel): string {
  const name = `${base}_${access}`
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER) return name
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 8)
  const room = MAX_IDENTIFIER - `_${hash}_${access}`.length
  return `${Buffer.from(base).subarray(0, room).toString('utf8').replace(/\uFFFD+$/, '')}_${hash}_${access}`
}

export interface AccessUser {
  name: string
  password: string
}

export interface AccessUsersPlan {
  /** the product's schema, which the users are about */
  schema: string
  users: Record<AccessLevel, AccessUser>
}

/**
 * A SCRAM-SHA-256 verifier as Postgres stores it (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`,
 * RFC 5802/7677). Postgres takes a verifier in place of a password and stores it as it is.
 * The password's UTF-8 bytes are used as they are: Postgres applies SASLprep, which leaves ASCII
 * (every generated password) unchanged.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256')
  const clientKey = createHmac('sha256', salted).update('Client Key').digest()
  const storedKey = createHash('sha256').update(clientKey).digest()
  const serverKey = createHmac('sha256', salted).update('Server Key').digest()
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`
}

/** Whether a stored verifier (pg_authid.rolpassword) opens with `password`; false for none, md5 or a malformed one. */
export function verifierMatches(stored: string | null | undefined, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(stored ?? '')
  if (!match) return false
  const expected = Buffer.from(scramVerifier(password, Buffer.from(match[2], 'base64'), Number(match[1])))
  const actual = Buffer.from(stored!)
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

export function createRoleSql(name: string, verifier: string): string {
  return `CREATE ROLE ${quoteIdent(name)} WITH ${ROLE_ATTRIBUTES} PASSWORD ${quoteLiteral(verifier)}`
}

export function resetRoleSql(name: string): string {
  return `ALTER ROLE ${quoteIdent(name)} WITH ${ROLE_ATTRIBUTES}`
}

export function setPasswordSql(name: string, verifier: string): string {
  return `ALTER ROLE ${quoteIdent(name)} WITH PASSWORD ${quoteLiteral(verifier)}`
}

/**
 * The grants, each idempotent by nature (granting what is held changes nothing): schema usage,
 * table rights on the tables there now, and default privileges for the tables write and admin
 * make later. The database's CONNECT is PUBLIC's by default; granting it keeps it if that is revoked.
 */
export function grantsSql(database: string, plan: AccessUsersPlan): string[] {
  const schema = quoteIdent(plan.schema)
  const [read, write, admin] = ACCESS_LEVELS.map((a) => quoteIdent(plan.users[a].name))
  return [
    `GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${read}, ${write}, ${admin}`,
    `GRANT ${write} TO ${admin}`,
    `GRANT USAGE ON SCHEMA ${schema} TO ${read}`,
    `GRANT USAGE, CREATE ON SCHEMA ${schema} TO ${write}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${read}`,
    `GRANT ${WRITE_PRIVILEGES} ON ALL TABLES IN SCHEMA ${schema} TO ${write}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${write} IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${read}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${admin} IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${read}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${admin} IN SCHEMA ${schema} GRANT ${WRITE_PRIVILEGES} ON TABLES TO ${write}`,
  ]
}

/** What the function needs of a client: pg's Client fits. */
export interface SqlClient {
  query(sql: string, values?: unknown[]): Promise<{rows: Array<Record<string, unknown>>}>
}

interface RoleRow {
  rolname: string
  rolsuper: boolean
  rolcreatedb: boolean
  rolcreaterole: boolean
  rolreplication: boolean
  rolbypassrls: boolean
  rolcanlogin: boolean
  rolinherit: boolean
  rolpassword: string | null
}

function hasAttributes(row: RoleRow): boolean {
  return row.rolcanlogin && row.rolinherit && !row.rolsuper && !row.rolcreatedb && !row.rolcreaterole && !row.rolreplication && !row.rolbypassrls
}

/**
 * Makes the plan's roles, passwords, schema owner and grants true in the connected database, as
 * one transaction (a failure leaves it as it was). Returns what it changed, without passwords:
 * nothing when everything was already so (grants are re-stated, which changes nothing).
 */
export async function ensureAccessUsers(client: SqlClient, plan: AccessUsersPlan): Promise<string[]> {
  const names = ACCESS_LEVELS.map((a) => plan.users[a].name)
  for (const name of [plan.schema, ...names]) {
    if (Buffer.byteLength(name) > MAX_IDENTIFIER) throw new UserError(`"${name}" is longer than Postgres' ${MAX_IDENTIFIER}-byte limit for names`, {exit: ExitCode.usage, suggestions: ['Use a shorter product or storage name.']})
  }
  for (const access of ACCESS_LEVELS) {
    if (!plan.users[access].password) throw new UserError(`no password for the ${access} user ${plan.users[access].name}`, {exit: ExitCode.usage, suggestions: ["Set it in the user's Secret (key password)."]})
  }

  const me = await client.query('SELECT current_user AS name, current_database() AS database, rolsuper FROM pg_roles WHERE rolname = current_user')
  const self = me.rows[0] as {name: string; database: string; rolsuper: boolean} | undefined
  if (!self?.rolsuper) {
    throw new UserError(`Postgres user "${self?.name ?? '?'}" is not a superuser: it cannot make the storage's access users`, {suggestions: ["Connect as the storage's root user (its credentials Secret)."]})
  }
  if (names.includes(self.name)) throw new UserError(`the access user names (${names.join(', ')}) include the connected root user "${self.name}"`, {exit: ExitCode.usage, suggestions: ['Name the access users differently from the root user.']})

  const changes: string[] = []
  await client.query('BEGIN')
  try {
    const found = await client.query('SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin, rolinherit, rolpassword FROM pg_authid WHERE rolname = ANY($1)', [names])
    const roles = new Map((found.rows as unknown as RoleRow[]).map((r) => [r.rolname, r]))
    for (const access of ACCESS_LEVELS) {
      const {name, password} = plan.users[access]
      const row = roles.get(name)
      if (!row) {
        await client.query(createRoleSql(name, scramVerifier(password)))
        changes.push(`created role ${name}`)
        continue
      }
      if (!hasAttributes(row)) {
        await client.query(resetRoleSql(name))
        changes.push(`reset the attributes of role ${name}`)
      }
      if (!verifierMatches(row.rolpassword, password)) {
        await client.query(setPasswordSql(name, scramVerifier(password)))
        changes.push(`set the password of role ${name}`)
      }
    }

    const admin = plan.users.admin.name
    const write = plan.users.write.name
    const schema = await client.query('SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = $1', [plan.schema])
    if (schema.rows.length === 0) {
      await client.query(`CREATE SCHEMA ${quoteIdent(plan.schema)} AUTHORIZATION ${quoteIdent(admin)}`)
      changes.push(`created schema ${plan.schema} owned by ${admin}`)
    } else if (schema.rows[0].owner !== admin) {
      await client.query(`ALTER SCHEMA ${quoteIdent(plan.schema)} OWNER TO ${quoteIdent(admin)}`)
      changes.push(`made ${admin} the owner of schema ${plan.schema}`)
    }

    // Every table of the schema is write's: a publish replaces a state's table, which only its
    // owner may do, and tables made before the access users existed (by the root user) or by
    // admin by hand would block it. Admin, a member of write, keeps every right on them.
    const foreign = await client.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner)::text <> $2 ORDER BY c.relname`,
      [plan.schema, write],
    )
    for (const {relname} of foreign.rows as Array<{relname: string}>) {
      await client.query(`ALTER TABLE ${quoteIdent(plan.schema)}.${quoteIdent(relname)} OWNER TO ${quoteIdent(write)}`)
      changes.push(`made ${write} the owner of table ${plan.schema}.${relname}`)
    }

    for (const sql of grantsSql(self.database, plan)) await client.query(sql)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
  return changes
}
