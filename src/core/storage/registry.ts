import type {DriverFactory} from './driver.js'

/**
 * Storage engines that have a driver, each loaded only when a run needs it (a Postgres or S3
 * client costs start-up). An engine missing here makes `run` exit 2 and `validate` warn.
 */
export const DRIVERS: Readonly<Record<string, () => Promise<DriverFactory>>> = {
  duckdb: async () => (await import('./duckdb.js')).duckdbDriver,
}

export function hasDriver(engine: string): boolean {
  return Object.hasOwn(DRIVERS, engine)
}
