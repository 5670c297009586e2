/**
 * Where a local run finds a storage's connection and credentials. A DataStorage declares only
 * what to provision (class, engine, size); where it listens and the secret to present are the
 * environment's: locally variables named after the storage, in the cluster the same variables
 * filled from the storage's Secret (secretKeyRef), so one code path serves both.
 *
 *   DAPPMESH_STORAGE_<NAME>_<KEY>   NAME: the DataStorage's name, upper-cased, `-` and `.` as `_`
 */
export function storageEnvName(storage: string, key: string): string {
  return `DAPPMESH_STORAGE_${storage.toUpperCase().replaceAll(/[^A-Z0-9]/g, '_')}_${key}`
}

/** The value of a storage's variable, or undefined when unset or empty. */
export function storageEnv(env: NodeJS.ProcessEnv, storage: string, key: string): string | undefined {
  const value = env[storageEnvName(storage, key)]
  return value === undefined || value === '' ? undefined : value
}

/**
 * An input port's variables, for sources whose secrets do not belong in the model:
 *
 *   DAPPMESH_INPUT_<PORT>_<KEY>   PORT: the InputPort's name, upper-cased, `-` and `.` as `_`
 */
export function inputEnvName(port: string, key: string): string {
  return `DAPPMESH_INPUT_${port.toUpperCase().replaceAll(/[^A-Z0-9]/g, '_')}_${key}`
}

export function inputEnv(env: NodeJS.ProcessEnv, port: string, key: string): string | undefined {
  const value = env[inputEnvName(port, key)]
  return value === undefined || value === '' ? undefined : value
}
