/** Helpers shared by the storage driver tests: a driver opened for one body, and a rejection's error. */
import type {Engine} from '../../src/core/engine/session.js'
import type {DriverFactory, StorageDriver, StorageTarget} from '../../src/core/storage/driver.js'

/** The error a promise rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<{exit?: number; message: string; suggestions: string[]}> {
  try {
    await promise
  } catch (error) {
    return error as {exit?: number; message: string; suggestions: string[]}
  }

  throw new Error('expected a rejection')
}

/** Opens a driver of product "orders" on `engine`, runs `body`, and closes it whatever happens. */
export async function withDriver<T>(
  factory: DriverFactory,
  storage: StorageTarget,
  engine: Engine,
  env: NodeJS.ProcessEnv,
  body: (driver: StorageDriver) => Promise<T>,
): Promise<T> {
  const driver = factory({storage, product: 'orders', dataDir: engine.scratchDir, engine, env})
  try {
    await driver.open()
    return await body(driver)
  } finally {
    await driver.close()
  }
}

export const runInfo = (id: string) => ({id, startedAt: new Date()})
