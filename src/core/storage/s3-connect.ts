/**
 * Connecting to an S3-compatible store (AWS S3, MinIO, SeaweedFS…), for the s3/minio storage
 * driver and for `s3` input sources: the client from explicit settings (never the SDK's default
 * credential chain, which would query instance metadata over the network), object transfers
 * streamed through files, and the failures a user can fix turned into typed errors (unreachable,
 * refused credentials, missing bucket: exit 3) naming the endpoint.
 */
import {createReadStream, createWriteStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import type {S3Client} from '@aws-sdk/client-s3'

import {ExitCode, UserError} from '../errors.js'

export interface S3Target {
  /** An endpoint URL for S3-compatible servers; undefined for AWS itself. */
  endpoint?: string
  region: string
  accessKeyId: string
  secretAccessKey: string
  /** `host:port` (or the AWS region endpoint), for messages. */
  where: string
}

/** What failed, for messages, and how to point dappmesh elsewhere. */
export interface S3Subject {
  label: string
  fix: string
  unreachable?: (where: string, cause: unknown) => UserError
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE'])
const REFUSED = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'Forbidden'])

/** `where` of an endpoint URL: host and port (the scheme's default port when none is written). */
export function endpointWhere(endpoint: string | undefined, region: string): string {
  if (!endpoint) return `s3.${region}.amazonaws.com:443`
  try {
    const url = new URL(endpoint)
    return `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`
  } catch {
    throw new UserError(`"${endpoint}" is not an S3 endpoint URL`, {
      exit: ExitCode.usage,
      suggestions: ['Write it as http(s)://HOST:PORT, e.g. http://127.0.0.1:9000.'],
    })
  }
}

/** Client settings; credentials are required (see the module comment). */
export function s3Target(
  settings: {endpoint?: string; region?: string; accessKeyId?: string; secretAccessKey?: string},
  subject: S3Subject,
): S3Target {
  const region = settings.region ?? 'us-east-1'
  if (!settings.accessKeyId || !settings.secretAccessKey) {
    throw new UserError(`${subject.label}: no S3 credentials (an access key id and a secret access key)`, {
      exit: ExitCode.usage,
      suggestions: [subject.fix],
    })
  }

  return {
    endpoint: settings.endpoint,
    region,
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    where: endpointWhere(settings.endpoint, region),
  }
}

export type S3Sdk = typeof import('@aws-sdk/client-s3')

/** The SDK (loaded here, on first use: it costs start-up) and a client for `target`. */
export async function s3Client(target: S3Target): Promise<{sdk: S3Sdk; client: S3Client}> {
  // The SDK warns on every process that its future releases will need Node 22: a notice for
  // whoever upgrades dappmesh's dependencies, not for a user running a flow.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const sdk = await import('@aws-sdk/client-s3')
  const client = new sdk.S3Client({
    endpoint: target.endpoint,
    region: target.region,
    // S3-compatible servers on a host:port serve buckets as paths, not as DNS names.
    forcePathStyle: target.endpoint !== undefined,
    credentials: {accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey},
    // A refused connection is an answer: retrying it three times only delays the message.
    maxAttempts: 2,
  })
  return {sdk, client}
}

function errorCode(error: unknown): {name: string; code: string; status?: number; message: string} {
  const e = error as {name?: string; code?: string; Code?: string; $metadata?: {httpStatusCode?: number}; message?: string; cause?: {code?: string}}
  return {
    name: e.name ?? '',
    code: e.code ?? e.cause?.code ?? e.Code ?? '',
    status: e.$metadata?.httpStatusCode,
    message: e.message ?? String(error),
  }
}

/** Turns a failure the user can fix into a typed error; anything else is returned as is. */
export function s3Error(error: unknown, target: S3Target, subject: S3Subject, bucket?: string): unknown {
  if (error instanceof UserError) return error
  const {name, code, status, message} = errorCode(error)
  if (UNREACHABLE.has(code) || name === 'TimeoutError' || (/ECONNREFUSED|ENOTFOUND|socket hang up/.test(message) && status === undefined)) {
    if (subject.unreachable) return subject.unreachable(target.where, error)
    return new UserError(`${subject.label}: S3 is unreachable at ${target.where} (${message || code})`, {
      exit: ExitCode.unreachable,
      suggestions: [`Start the S3 server at ${target.where}, or point dappmesh at the right one. ${subject.fix}`],
      cause: error,
    })
  }

  if (REFUSED.has(name) || REFUSED.has(code) || status === 403) {
    return new UserError(`${subject.label}: S3 at ${target.where} refused access key "${target.accessKeyId}" (${name || code || status})`, {
      exit: ExitCode.unreachable,
      suggestions: [`Check the access key and secret, and that they may read and write the bucket. ${subject.fix}`],
      cause: error,
    })
  }

  if (bucket && (name === 'NoSuchBucket' || code === 'NoSuchBucket' || (name === 'NotFound' && status === 404))) {
    const endpoint = target.endpoint ? ` --endpoint-url ${target.endpoint}` : ''
    return new UserError(`${subject.label}: bucket "${bucket}" does not exist at ${target.where}`, {
      exit: ExitCode.unreachable,
      suggestions: [`Create it (e.g. aws s3 mb s3://${bucket}${endpoint}), or name an existing bucket. ${subject.fix}`],
      cause: error,
    })
  }

  return error
}

/** Whether an error is "no such key" (a GET of an object that does not exist). */
export function isMissingKey(error: unknown): boolean {
  const {name, code, status} = errorCode(error)
  return name === 'NoSuchKey' || code === 'NoSuchKey' || (name === 'NotFound' && status === 404)
}

/** Streams an object to a file. */
export async function downloadObject(s3: {sdk: S3Sdk; client: S3Client}, bucket: string, key: string, file: string): Promise<void> {
  const object = await s3.client.send(new s3.sdk.GetObjectCommand({Bucket: bucket, Key: key}))
  await pipeline(object.Body as Readable, createWriteStream(file))
}

/** Streams a file to an object (one PUT: the files we write stay well under S3's 5 GB limit for it). */
export async function uploadObject(s3: {sdk: S3Sdk; client: S3Client}, bucket: string, key: string, file: string): Promise<void> {
  const {size} = await stat(file)
  await s3.client.send(new s3.sdk.PutObjectCommand({Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size}))
}

/** Every key under a prefix. */
export async function listKeys(s3: {sdk: S3Sdk; client: S3Client}, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
     
    const page = await s3.client.send(new s3.sdk.ListObjectsV2Command({Bucket: bucket, Prefix: prefix, ContinuationToken: token}))
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return keys
}
