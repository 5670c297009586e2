/**
 * `s3` input sources (§7): CSV, NDJSON, JSON or Parquet objects, one (`s3://bucket/key.parquet`)
 * or every one under a prefix (`s3://bucket/prefix/`), downloaded (streamed) into the run's
 * scratch dir. Several objects are combined by DuckDB into one file of their format, so the run
 * reads them as one input.
 *
 * Settings (the model holds no secrets): DAPPMESH_INPUT_<PORT>_ENDPOINT, _ACCESS_KEY_ID,
 * _SECRET_ACCESS_KEY, _REGION; else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_REGION.
 */
import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'

import {quoteLiteral} from '../engine/types.js'
import {ExitCode, UserError} from '../errors.js'
import type {EngineSession} from '../storage/driver.js'
import {inputEnv, inputEnvName} from '../storage/env.js'
import {downloadObject, isMissingKey, listKeys, s3Client, s3Error, type S3Subject, s3Target} from '../storage/s3-connect.js'
import {type InputFormat, formatOfPath} from './format.js'
import type {Pulled} from './http.js'

/** `s3://bucket/key` as bucket and key (a key ending in `/`, or none, is a prefix). */
export function parseS3Uri(uri: string, port: string): {bucket: string; key: string} {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri)
  if (!match) {
    throw new UserError(`input port ${port}: "${uri}" is not an s3:// URI`, {
      exit: ExitCode.usage,
      suggestions: ['Write it as s3://BUCKET/KEY.parquet for one object, or s3://BUCKET/PREFIX/ for every object under a prefix.'],
    })
  }

  return {bucket: match[1], key: match[2]}
}

/** How DuckDB reads several objects of one format as one relation, and writes it back as one file. */
const COMBINE: Record<InputFormat, {read: (files: string) => string; write: string}> = {
  csv: {read: (f) => `read_csv(${f}, header = true, all_varchar = true, union_by_name = true)`, write: 'FORMAT csv, HEADER true'},
  ndjson: {read: (f) => `read_json(${f}, format = 'newline_delimited', union_by_name = true)`, write: 'FORMAT json'},
  json: {read: (f) => `read_json(${f}, format = 'array', union_by_name = true)`, write: 'FORMAT json, ARRAY true'},
  parquet: {read: (f) => `read_parquet(${f}, union_by_name = true)`, write: 'FORMAT parquet'},
}

export async function pullS3(
  uri: string,
  scratchDir: string,
  port: string,
  fileName: string,
  env: NodeJS.ProcessEnv,
  engine: EngineSession,
): Promise<Pulled> {
  const {bucket, key} = parseS3Uri(uri, port)
  const variable = (k: string) => inputEnvName(port, k)
  const subject: S3Subject = {
    label: `input port ${port}`,
    fix: `Set ${variable('ENDPOINT')}, ${variable('ACCESS_KEY_ID')} and ${variable('SECRET_ACCESS_KEY')} (or AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).`,
  }
  const target = s3Target({
    endpoint: inputEnv(env, port, 'ENDPOINT') ?? (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined),
    region: inputEnv(env, port, 'REGION') ?? (env.AWS_REGION || undefined),
    accessKeyId: inputEnv(env, port, 'ACCESS_KEY_ID') ?? (env.AWS_ACCESS_KEY_ID || undefined),
    secretAccessKey: inputEnv(env, port, 'SECRET_ACCESS_KEY') ?? (env.AWS_SECRET_ACCESS_KEY || undefined),
  }, subject)
  const s3 = await s3Client(target)
  try {
    const isPrefix = key === '' || key.endsWith('/')
    const keys = isPrefix ? await listKeys(s3, bucket, key) : [key]
    const objects = keys.map((k) => ({key: k, format: formatOfPath(k)})).filter((o) => o.format !== undefined || !isPrefix)
    if (objects.length === 0) {
      throw new UserError(`input port ${port}: no CSV, NDJSON, JSON or Parquet object under ${uri}`, {
        suggestions: ['Objects are told apart by extension: .csv, .ndjson, .jsonl, .json, .parquet.'],
      })
    }

    const formats = new Set(objects.map((o) => o.format))
    const format = objects[0].format
    if (!format) {
      throw new UserError(`input port ${port}: cannot tell the format of ${uri}; name it .csv, .ndjson, .jsonl, .json or .parquet`, {exit: ExitCode.usage})
    }

    if (formats.size > 1) {
      throw new UserError(`input port ${port}: ${uri} holds objects of several formats (${[...formats].join(', ')})`, {
        suggestions: ['Keep one format under the prefix, or name one object.'],
      })
    }

    const dir = join(scratchDir, `${fileName}-s3`)
    await mkdir(dir, {recursive: true})
    const files = await Promise.all(objects.map(async (o, i) => {
      const file = join(dir, `${i}.${format}`)
      await downloadObject(s3, bucket, o.key, file).catch((error: unknown) => {
        if (isMissingKey(error)) throw new UserError(`input port ${port}: no object ${uri}`, {suggestions: ['Check the uri of the InputPort source.']})
        throw error
      })
      return file
    }))
    if (files.length === 1) return {file: files[0], format}
    const file = join(scratchDir, `${fileName}.${format}`)
    const list = `[${files.map((f) => quoteLiteral(f)).join(', ')}]`
    await engine.run(`COPY (SELECT * FROM ${COMBINE[format].read(list)}) TO ${quoteLiteral(file)} (${COMBINE[format].write})`)
    return {file, format}
  } catch (error) {
    throw s3Error(error, target, subject, bucket)
  } finally {
    s3.client.destroy()
  }
}
