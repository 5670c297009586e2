import {constants} from 'node:fs'
import {access} from 'node:fs/promises'
import {delimiter, join} from 'node:path'

import {execa} from 'execa'

/** The absolute path of `command` on `PATH` (the given one, or this process's), or undefined. */
export async function findOnPath(command: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, command)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  return undefined
}

/** Whether a Docker engine answers `docker info` (the CLI alone is not enough to run kind). */
export async function dockerEngineAnswers(env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): Promise<boolean> {
  const docker = await findOnPath('docker', env.PATH)
  if (!docker) return false
  const result = await execa(docker, ['info', '--format', '{{.ServerVersion}}'], {env, reject: false, timeout: timeoutMs, stdin: 'ignore'})
  return result.exitCode === 0 && String(result.stdout).trim() !== ''
}
