/**
 * `dappmesh storage users`: what the runtime pod's init container runs before the runtime starts.
 * For each postgresql storage of the product it connects as the storage's root user and makes the
 * per-access users (postgres-users.ts) true, with the names and passwords of their Secrets.
 *
 * Why an init container of the runtime pod, and not the operator or a Job: the storage's
 * NetworkPolicy admits the runtime's pods only, so the init container reaches the database exactly
 * as the runtime does (the operator would need a network path to every storage of every product,
 * and a Job one more pod kind to watch and clean up); it runs on every start of the runtime, so
 * the users exist before the runtime connects as write, and a rotated password (the operator
 * restarts the runtime when a user's Secret changes) is set before anyone needs it; and only the
 * init container is given the root credentials: the runtime's own container has write's.
 */
import {storageEnv, storageEnvName} from './env.js'
import {ACCESS_LEVELS, type AccessLevel, type AccessUsersPlan, ensureAccessUsers} from './postgres-users.js'
import {connectPostgres, postgresError, type PostgresSubject, type PostgresTarget, postgresTarget} from './postgres-connect.js'
import {ExitCode, UsageError, isUserError} from '../errors.js'
import type {Client} from 'pg'

/**
 * The variables an access user's name and password come in (from its Secret, by secretKeyRef):
 *
 *   DAPPMESH_ACCESS_<STORAGE>_<ACCESS>_<KEY>   KEY: USERNAME or PASSWORD
 *
 * Another prefix than the storage's own (DAPPMESH_STORAGE_…), so a storage named `x-read` and the
 * read user of storage `x` cannot share a variable.
 */
export function accessEnvName(storage: string, access: AccessLevel, key: 'USERNAME' | 'PASSWORD'): string {
  return `DAPPMESH_ACCESS_${storage.toUpperCase().replaceAll(/[^A-Z0-9]/g, '_')}_${access.toUpperCase()}_${key}`
}

export interface StorageUsersOptions {
  /** the postgresql storages (local names), each with its root URL and its users in the environment */
  storages: string[]
  /** the product's schema: its name */
  schema: string
  env: NodeJS.ProcessEnv
  /**
   * How long to keep trying a storage that cannot be reached yet (0: once). The runtime's pod
   * usually starts with its storage: Postgres' image answers on TCP only after its initdb, and
   * the headless Service has no address until the pod is ready.
   */
  waitMs?: number
  /** Told each failed attempt that will be retried. */
  onRetry?: (message: string) => void
}

export interface StorageUsersResult {
  storages: Array<{storage: string; changes: string[]}>
}

/** The plan for one storage from the environment; a missing variable is a usage error naming it. */
export function accessUsersPlan(storage: string, schema: string, env: NodeJS.ProcessEnv): AccessUsersPlan {
  const read = (access: AccessLevel, key: 'USERNAME' | 'PASSWORD') => {
    const value = env[accessEnvName(storage, access, key)]
    if (!value) throw new UsageError(`storage "${storage}": ${accessEnvName(storage, access, key)} is not set`, [`Set it from the ${access} user's Secret (key ${key.toLowerCase()}).`])
    return value
  }
  const users = Object.fromEntries(ACCESS_LEVELS.map((a) => [a, {name: read(a, 'USERNAME'), password: read(a, 'PASSWORD')}])) as AccessUsersPlan['users']
  return {schema, users}
}

export async function ensureStorageUsers(options: StorageUsersOptions): Promise<StorageUsersResult> {
  const result: StorageUsersResult = {storages: []}
  for (const storage of options.storages) {
    const plan = accessUsersPlan(storage, options.schema, options.env)
    const target = postgresTarget(storageEnv(options.env, storage, 'URL'), options.env)
    const subject = {label: `storage "${storage}"`, fix: `Set ${storageEnvName(storage, 'URL')} to the storage's root user.`}
    const client = await connectWithin(target, subject, Date.now() + (options.waitMs ?? 0), options.onRetry)
    try {
      result.storages.push({storage, changes: await ensureAccessUsers(client, plan)})
    } catch (error) {
      throw postgresError(error, target, subject)
    } finally {
      await client.end().catch(() => {})
    }
  }
  return result
}

/** Connects, trying again every 2 s while the server is unreachable (exit 3) and the deadline is ahead. */
async function connectWithin(target: PostgresTarget, subject: PostgresSubject, deadline: number, onRetry?: (message: string) => void): Promise<Client> {
  for (;;) {
    try {
      return await connectPostgres(target, subject)
    } catch (error) {
      if (!isUserError(error) || error.exit !== ExitCode.unreachable || Date.now() + 2000 > deadline) throw error
      onRetry?.(error.message)
      await new Promise((resolve) => {
        setTimeout(resolve, 2000)
      })
    }
  }
}
