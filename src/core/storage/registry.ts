import {UsageError} from '../errors.js'
import type {DriverFactory, DriverOptions, StorageDriver} from './driver.js'

/**
 * Storage engines that have a driver, each loaded only when a run needs it (a Postgres or S3
 * client costs start-up). An engine missing here makes `run` exit 2 and `validate` warn.
 */
export const DRIVERS: Readonly<Record<string, () => Promise<DriverFactory>>> = {
  duckdb: async () => (await import('./duckdb.js')).duckdbDriver,
  postgresql: async () => (await import('./postgresql.js')).postgresqlDriver,
  s3: async () => (await import('./s3.js')).s3Driver,
  minio: async () => (await import('./s3.js')).s3Driver,
}

/**
 * Engines DESIGN §7 gives a driver: `validate` warns about the others (surrealdb, tidb, doris,
 * clickhouse). The postgresql and s3/minio drivers are registered in DRIVERS by their own modules.
 */
export const DRIVER_ENGINES: readonly string[] = ['duckdb', 'postgresql', 's3', 'minio']

export function hasDriver(engine: string): boolean {
  return Object.hasOwn(DRIVERS, engine)
}

/** Refuses (exit 2) a storage whose engine has no driver, saying which engines have one. */
export function requireDriver(storage: {name: string; engine: string}): void {
  if (hasDriver(storage.engine)) return
  throw new UsageError(`the states of this run live in DataStorage "${storage.name}" (engine ${storage.engine}), which has no driver yet`, [
    `Set spec.storage of the DataFlow to a storage whose engine has a driver (${Object.keys(DRIVERS).join(', ')}), or run another flow with --flow.`,
  ])
}

/** The driver for `options.storage` (not opened yet). */
export async function createDriver(options: DriverOptions): Promise<StorageDriver> {
  requireDriver(options.storage)
  return (await DRIVERS[options.storage.engine]())(options)
}
