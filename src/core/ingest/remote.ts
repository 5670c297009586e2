/**
 * Sources a run reads from a server of its own kind rather than over HTTP: `s3` objects and
 * `postgres` tables or queries (§7). Each lands as one file in the run's scratch dir, so the run
 * reads it like any other input.
 */
import {redact} from '../storage/postgres-connect.js'
import type {EngineSession} from '../storage/driver.js'
import type {Pulled} from './http.js'
// Static: these modules load their clients (pg, the AWS SDK) themselves, only when called.
import {pullPostgres} from './postgres.js'
import {pullS3} from './s3.js'

export type RemoteKind = 's3' | 'postgres'

/** The kind of a location (`--input port=LOCATION`, or a source's uri) read by this module. */
export function remoteKind(location: string): RemoteKind | undefined {
  if (/^s3:\/\//i.test(location)) return 's3'
  if (/^postgres(ql)?:\/\//i.test(location)) return 'postgres'
  return undefined
}

/** How a location appears in messages and reports: never with a password. */
export function remoteLabel(uri: string): string {
  return redact(uri)
}

export async function pullRemote(
  source: {kind: RemoteKind; uri: string; port: string},
  engine: EngineSession,
  fileName: string,
  env: NodeJS.ProcessEnv,
): Promise<Pulled> {
  if (source.kind === 's3') {
    return pullS3(source.uri, engine.scratchDir, source.port, fileName, env, engine)
  }

  return pullPostgres(source.uri, engine.scratchDir, source.port, fileName, env)
}
