/**
 * A real Postgres for a test: Debian's `postgresql` binaries, a fresh `initdb` in a temp dir, a
 * server on 127.0.0.1 and a free port, a password user (scram-sha-256, so a wrong password is
 * refused as in production), stopped by PID. Postgres refuses to run as root and the tests run as
 * root here, so the cluster directory belongs to `nobody` and the server runs as that user
 * (setpriv execs in place, so the PID we hold is the postmaster's own).
 *
 * DAPPMESH_TEST_PG_BIN: a directory with initdb/postgres/psql (default: the newest
 * /usr/lib/postgresql/<major>/bin, else whatever is on PATH).
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {chownSync, existsSync, readdirSync, writeFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'

export interface TestPostgres {
  host: string
  port: number
  user: string
  password: string
  database: string
  /** postgres://user:password@127.0.0.1:port/database */
  url: string
  pid: number
  /** Runs SQL through psql as the test user; returns stdout (unaligned, tuples only). */
  psql(sql: string, database?: string): string
  /** Stops the server by PID (fast shutdown) and removes its directory. */
  stop(): Promise<void>
}

const RUN_AS = 'nobody'

/** The directory of initdb/postgres/psql, or undefined when Postgres is not installed. */
export function postgresBinDir(): string | undefined {
  const fromEnv = process.env.DAPPMESH_TEST_PG_BIN
  if (fromEnv) return existsSync(path.join(fromEnv, 'initdb')) ? fromEnv : undefined
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (majors.length > 0) return path.join(root, majors[0], 'bin')
  }

  const which = spawnSync('sh', ['-c', 'command -v initdb'], {encoding: 'utf8'})
  return which.status === 0 ? path.dirname(which.stdout.trim()) : undefined
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function ids(user: string): {uid: number; gid: number} {
  const uid = Number(spawnSync('id', ['-u', user], {encoding: 'utf8'}).stdout.trim())
  const gid = Number(spawnSync('id', ['-g', user], {encoding: 'utf8'}).stdout.trim())
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`no user ${user} on this machine`)
  return {uid, gid}
}

/** The command line that runs `argv` as the unprivileged user when we are root. */
function asServerUser(argv: string[]): string[] {
  if (process.getuid?.() !== 0) return argv
  const {uid, gid} = ids(RUN_AS)
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...argv]
}

function chownTree(dir: string, names: string[]): void {
  if (process.getuid?.() !== 0) return
  const {uid, gid} = ids(RUN_AS)
  chownSync(dir, uid, gid)
  for (const name of names) chownSync(path.join(dir, name), uid, gid)
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
}

export async function startPostgres(options: {user?: string; password?: string} = {}): Promise<TestPostgres> {
  const bin = postgresBinDir()
  if (!bin) throw new Error('Postgres is not installed: run scripts/install-system-deps.sh (Debian package postgresql)')
  const user = options.user ?? 'dappmesh'
  const password = options.password ?? 'dappmesh-test-password'
  const dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-pg-'))
  const data = path.join(dir, 'data')
  const pwfile = path.join(dir, 'pwfile')
  writeFileSync(pwfile, `${password}\n`, {mode: 0o600})
  chownTree(dir, ['pwfile'])

  const init = asServerUser([
    path.join(bin, 'initdb'),
    '-D', data, '-U', user, `--pwfile=${pwfile}`,
    '--auth-host=scram-sha-256', '--auth-local=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync',
  ])
  const initResult = spawnSync(init[0], init.slice(1), {encoding: 'utf8'})
  if (initResult.status !== 0) {
    await rm(dir, {recursive: true, force: true})
    throw new Error(`initdb failed: ${initResult.stderr || initResult.error?.message}`)
  }

  const port = await freePort()
  // Durability off: a test database is thrown away, and fsync is most of a small write's cost.
  const argv = asServerUser([
    path.join(bin, 'postgres'), '-D', data, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
  ])
  const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start postgres: ${stderr}`)

  const env = {...process.env, PGPASSWORD: password}
  const psql = (sql: string, database = 'postgres'): string => {
    const result = spawnSync(
      path.join(bin, 'psql'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', sql],
      {encoding: 'utf8', env},
    )
    if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`)
    return result.stdout
  }

  const stop = async (): Promise<void> => {
    process.off('exit', killNow)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT') // fast shutdown: roll back sessions, stop now
      await exited(child)
    }

    await rm(dir, {recursive: true, force: true})
  }

  const killNow = (): void => {
    try {
      process.kill(pid, 'SIGQUIT')
    } catch {
      // already gone
    }
  }

  process.once('exit', killNow)

  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`postgres exited during start-up: ${stderr}`)
    }

    const ready = spawnSync(path.join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)])
    if (ready.status === 0) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`postgres did not become ready on 127.0.0.1:${port} within 30s: ${stderr}`)
    }

    await new Promise((resolve) => {
      setTimeout(resolve, 100)
    })
  }

  const database = 'postgres'
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    url: `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    pid,
    psql,
    stop,
  }
}

/**
 * Skips a suite whose real service is not installed on a developer's machine, but fails it in CI
 * (`CI` set, as .ci/run does), where .ci/run installs everything: a suite that silently skips
 * there would prove nothing.
 */
export function requireOrSkip(context: Mocha.Context, what: string): void {
  if (process.env.CI) throw new Error(`${what} is missing on this CI machine`)
  context.skip()
}
