/**
 * The s3/minio driver (§7): a product's states are Parquet objects under
 * `<bucket>/<product>/<state>/run=<run id>/part-<n>.parquet`, and one small manifest object,
 * `<bucket>/<product>/_manifest.json`, says which objects make each state now.
 *
 * Publishing a run: write every new object first, then replace the manifest (one PUT, which S3
 * makes visible all at once), then delete the objects no state refers to any more. A reader
 * goes through the manifest, so it sees the states of one run or of the next, never a mix; a run
 * that dies before the manifest PUT leaves every state as it was (its orphan objects are removed
 * by the next successful run). One writer per product at a time, as with DuckDB.
 *
 * Settings (environment; in the cluster filled from the storage's Secret):
 *   DAPPMESH_STORAGE_<NAME>_ENDPOINT            http(s)://host:port of an S3-compatible server (unset: AWS S3)
 *   DAPPMESH_STORAGE_<NAME>_BUCKET              the bucket (default: the storage's name)
 *   DAPPMESH_STORAGE_<NAME>_ACCESS_KEY_ID       else AWS_ACCESS_KEY_ID
 *   DAPPMESH_STORAGE_<NAME>_SECRET_ACCESS_KEY   else AWS_SECRET_ACCESS_KEY
 *   DAPPMESH_STORAGE_<NAME>_REGION              else AWS_REGION, else us-east-1
 */
import {mkdir, readdir} from 'node:fs/promises'
import {join} from 'node:path'

import {quoteIdent, quoteLiteral, type StateTable} from '../engine/types.js'
import {
  type DriverFactory,
  type DriverOptions,
  type RunInfo,
  type StateWrite,
  type StorageDriver,
  StorageUnreachableError,
} from './driver.js'
import {storageEnv, storageEnvName} from './env.js'
import {
  downloadObject,
  isMissingKey,
  listKeys,
  s3Client,
  type S3Sdk,
  s3Error,
  type S3Subject,
  type S3Target,
  s3Target,
  uploadObject,
} from './s3-connect.js'

import type {S3Client} from '@aws-sdk/client-s3'

const MANIFEST_FORMAT = 'dappmesh.states/v1'

/** One state as the manifest records it. */
export interface ManifestState {
  ref: string
  /** The run that last replaced it. */
  run: string
  objects: string[]
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT
  product: string
  /** The run that wrote this manifest. */
  run?: string
  states: Record<string, ManifestState>
}

/** Parquet files of at most this size: one PUT each, and readers can fetch them in parallel. */
const FILE_SIZE = '128MB'

class S3Driver implements StorageDriver {
  private s3?: {sdk: S3Sdk; client: S3Client}
  private readonly target: S3Target
  private readonly subject: S3Subject
  readonly bucket: string
  private manifest: Manifest
  private loaded = 0

  constructor(private readonly options: DriverOptions) {
    const {env, storage} = options
    const {name} = storage
    const variable = (key: string) => storageEnvName(name, key)
    this.subject = {
      label: `storage "${name}"`,
      fix: `Set ${variable('ENDPOINT')}, ${variable('BUCKET')}, ${variable('ACCESS_KEY_ID')} and ${variable('SECRET_ACCESS_KEY')} (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).`,
      unreachable: (where, cause) => new StorageUnreachableError(name, where, cause),
    }
    this.target = s3Target({
      endpoint: storageEnv(env, name, 'ENDPOINT'),
      region: storageEnv(env, name, 'REGION') ?? (env.AWS_REGION || undefined),
      accessKeyId: storageEnv(env, name, 'ACCESS_KEY_ID') ?? (env.AWS_ACCESS_KEY_ID || undefined),
      secretAccessKey: storageEnv(env, name, 'SECRET_ACCESS_KEY') ?? (env.AWS_SECRET_ACCESS_KEY || undefined),
    }, this.subject)
    this.bucket = storageEnv(env, name, 'BUCKET') ?? name
    this.manifest = emptyManifest(options.product)
  }

  private get manifestKey(): string {
    return `${this.options.product}/_manifest.json`
  }

  private statePrefix(table: string): string {
    return `${this.options.product}/${table}/`
  }

  private get client(): {sdk: S3Sdk; client: S3Client} {
    if (!this.s3) throw new Error('s3 driver used before open()')
    return this.s3
  }

  /** Runs an S3 call; failures a user can fix become typed errors. */
  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw s3Error(error, this.target, this.subject, this.bucket)
    }
  }

  async open(): Promise<void> {
    this.s3 = await s3Client(this.target)
    const {sdk, client} = this.s3
    await this.call(() => client.send(new sdk.HeadBucketCommand({Bucket: this.bucket})))
    this.manifest = await this.readManifest()
  }

  private async readManifest(): Promise<Manifest> {
    const {sdk, client} = this.client
    let text: string
    try {
      const object = await client.send(new sdk.GetObjectCommand({Bucket: this.bucket, Key: this.manifestKey}))
      text = (await object.Body?.transformToString()) ?? ''
    } catch (error) {
      if (isMissingKey(error)) return emptyManifest(this.options.product)
      throw s3Error(error, this.target, this.subject, this.bucket)
    }

    const parsed = JSON.parse(text) as Partial<Manifest>
    if (parsed.format !== MANIFEST_FORMAT || typeof parsed.states !== 'object' || parsed.states === null) {
      throw new Error(`s3://${this.bucket}/${this.manifestKey} is not a dappmesh manifest (format ${String(parsed.format)})`)
    }

    return parsed as Manifest
  }

  /** The run that last replaced the state and its objects, as the manifest read at open() says. */
  async stateVersion(state: StateTable): Promise<string> {
    const entry = this.manifest.states[state.table]
    return entry ? `${entry.run}:${entry.objects.join(',')}` : 'absent'
  }

  async readState(state: StateTable): Promise<string | undefined> {
    const entry = this.manifest.states[state.table]
    if (!entry) return undefined
    const {engine} = this.options
    this.loaded += 1
    const dir = join(engine.scratchDir, `s3-read-${this.loaded}`)
    await mkdir(dir, {recursive: true})
    const files = await Promise.all(entry.objects.map(async (key, index) => {
      const file = join(dir, `part-${index}.parquet`)
      await this.call(() => downloadObject(this.client, this.bucket, key, file))
      return file
    }))
    const local = quoteIdent(`__dappmesh_s3_${this.loaded}_${state.table}`)
    if (files.length === 0) {
      const columns = state.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')
      await engine.run(`CREATE OR REPLACE TABLE ${local} (${columns})`)
    } else {
      const list = files.map((f) => quoteLiteral(f)).join(', ')
      await engine.run(`CREATE OR REPLACE TABLE ${local} AS SELECT * FROM read_parquet([${list}], union_by_name = true)`)
    }

    return local
  }

  async writeStates(writes: StateWrite[], run: RunInfo): Promise<void> {
    const next: Manifest = {...this.manifest, run: run.id, states: {...this.manifest.states}}
    const written: string[] = []
    try {
      for (const [index, w] of writes.entries()) {
         
        const keys = await this.upload(w, run, index)
        written.push(...keys)
        const previous = next.states[w.state.table]
        next.states[w.state.table] = {
          ref: w.state.ref,
          run: w.mode === 'append' && previous ? previous.run : run.id,
          objects: w.mode === 'append' && previous ? [...previous.objects, ...keys] : keys,
        }
      }

      // The switch: from here on readers see this run's states.
      const {sdk, client} = this.client
      await this.call(() => client.send(new sdk.PutObjectCommand({
        Bucket: this.bucket,
        Key: this.manifestKey,
        Body: JSON.stringify(next, null, 2),
        ContentType: 'application/json',
      })))
    } catch (error) {
      await this.remove(written).catch(() => {})
      throw error
    }

    this.manifest = next
    // Old objects of the states this run wrote, and orphans of runs that died before their switch.
    await this.removeUnreferenced(writes.map((w) => w.state.table)).catch(() => {})
  }

  /** Writes a staged table as Parquet files and uploads them; returns their keys. */
  private async upload(w: StateWrite, run: RunInfo, index: number): Promise<string[]> {
    const dir = join(this.options.engine.scratchDir, `s3-write-${index}`)
    await this.options.engine.run(
      `COPY (SELECT * FROM ${w.staged}) TO ${quoteLiteral(dir)} (FORMAT parquet, COMPRESSION zstd, FILE_SIZE_BYTES '${FILE_SIZE}', OVERWRITE true)`,
    )
    const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet')).sort()
    const prefix = `${this.statePrefix(w.state.table)}run=${run.id}/`
    const keys: string[] = []
    for (const [n, file] of files.entries()) {
      const key = `${prefix}part-${n}.parquet`
       
      await this.call(() => uploadObject(this.client, this.bucket, key, join(dir, file)))
      keys.push(key)
    }

    return keys
  }

  private async removeUnreferenced(tables: string[]): Promise<void> {
    const live = new Set(Object.values(this.manifest.states).flatMap((s) => s.objects))
    for (const table of new Set(tables)) {
       
      const keys = await listKeys(this.client, this.bucket, this.statePrefix(table))
       
      await this.remove(keys.filter((k) => !live.has(k)))
    }
  }

  private async remove(keys: string[]): Promise<void> {
    const {sdk, client} = this.client
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000)
       
      await client.send(new sdk.DeleteObjectsCommand({Bucket: this.bucket, Delete: {Objects: batch.map((Key) => ({Key})), Quiet: true}}))
    }
  }

  async close(): Promise<void> {
    this.s3?.client.destroy()
    this.s3 = undefined
  }
}

function emptyManifest(product: string): Manifest {
  return {format: MANIFEST_FORMAT, product, states: {}}
}

export const s3Driver: DriverFactory = (options) => new S3Driver(options)
