/**
 * A real S3-compatible server for a test: SeaweedFS (`weed server -filer -s3`, built from its Go
 * module by test/services/build-s3.sh and cached under ~/.cache/dappmesh/bin/seaweedfs-<version>/),
 * every port on 127.0.0.1 and free, one identity with known keys, buckets created only on request
 * (auto-creation off, so a missing bucket is a real error), stopped by PID. Telemetry is off:
 * nothing leaves the machine. SeaweedFS gives each bucket volumes of its own, so the volume count
 * is set high (volumes are small and sparse): a test that makes many buckets would otherwise run
 * out and get InternalError on upload.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {ROOT} from './cli.js'
import {freePort} from './postgres.js'

export interface TestS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string
  host: string
  port: number
  region: string
  accessKeyId: string
  secretAccessKey: string
  pid: number
  createBucket(name: string): Promise<void>
  /** Keys under a prefix, sorted. */
  listKeys(bucket: string, prefix?: string): Promise<string[]>
  stop(): Promise<void>
}

const BUILD_SCRIPT = path.join(ROOT, 'test/services/build-s3.sh')

/** The cached `weed` binary, or undefined when test/services/build-s3.sh has not built it yet. */
export function s3Binary(): string | undefined {
  const result = spawnSync('bash', [BUILD_SCRIPT, '--print-bin'], {encoding: 'utf8'})
  const bin = result.stdout.trim()
  return result.status === 0 && existsSync(bin) ? bin : undefined
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
}

async function s3Client(endpoint: string, accessKeyId: string, secretAccessKey: string) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const s3 = await import('@aws-sdk/client-s3')
  const client = new s3.S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {accessKeyId, secretAccessKey},
    maxAttempts: 1,
  })
  return {s3, client}
}

export async function startS3(): Promise<TestS3> {
  const bin = s3Binary()
  if (!bin) throw new Error('the S3 test server is not built: run test/services/build-s3.sh')
  const dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-s3-'))
  const accessKeyId = 'dappmesh-test-access'
  const secretAccessKey = 'dappmesh-test-secret-key-0123456789'
  const config = path.join(dir, 's3.json')
  writeFileSync(config, JSON.stringify({
    identities: [{
      name: 'dappmesh-test',
      credentials: [{accessKey: accessKeyId, secretKey: secretAccessKey}],
      actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'],
    }],
  }))

  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3Port, s3Grpc] = await Promise.all(
    Array.from({length: 8}, () => freePort()),
  )
  const argv = [
    'server', '-filer', '-s3',
    '-ip=127.0.0.1', '-ip.bind=127.0.0.1', `-dir=${dir}`,
    `-master.port=${master}`, `-master.port.grpc=${masterGrpc}`, '-master.telemetry=false',
    '-master.volumeSizeLimitMB=32', '-volume.max=500',
    `-volume.port=${volume}`, `-volume.port.grpc=${volumeGrpc}`,
    `-filer.port=${filer}`, `-filer.port.grpc=${filerGrpc}`, `-filer.localSocket=${path.join(dir, 'filer.sock')}`,
    `-s3.port=${s3Port}`, `-s3.port.grpc=${s3Grpc}`, `-s3.localSocket=${path.join(dir, 's3.sock')}`,
    '-s3.port.iceberg=0', '-s3.port.lance=0', `-s3.config=${config}`, '-s3.autoCreateBucket=false',
  ]
  const child = spawn(bin, argv, {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${bin}`)
  const killNow = (): void => {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }

  process.once('exit', killNow)

  const stop = async (): Promise<void> => {
    process.off('exit', killNow)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(killNow, 10_000)
      await exited(child)
      clearTimeout(timer)
    }

    await rm(dir, {recursive: true, force: true})
  }

  const endpoint = `http://127.0.0.1:${s3Port}`
  const {s3, client} = await s3Client(endpoint, accessKeyId, secretAccessKey)

  // Ready means a bucket can be made and an object written: master, volume, filer and gateway all up.
  const probe = 'dappmesh-readiness-probe'
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`weed exited during start-up: ${stderr}`)
    }

    try {
      await client.send(new s3.CreateBucketCommand({Bucket: probe})).catch((error: {name?: string}) => {
        if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error
      })
      await client.send(new s3.PutObjectCommand({Bucket: probe, Key: 'probe', Body: 'ok'}))
      await client.send(new s3.DeleteObjectCommand({Bucket: probe, Key: 'probe'}))
      await client.send(new s3.DeleteBucketCommand({Bucket: probe}))
      break
    } catch (error) {
      if (Date.now() > deadline) {
        await stop()
        throw new Error(`S3 server not ready on ${endpoint} within 60s (${String(error)}): ${stderr}`)
      }

      await new Promise((resolve) => {
        setTimeout(resolve, 250)
      })
    }
  }

  return {
    endpoint,
    host: '127.0.0.1',
    port: s3Port,
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
    pid,
    async createBucket(name: string): Promise<void> {
      await client.send(new s3.CreateBucketCommand({Bucket: name}))
    },
    async listKeys(bucket: string, prefix?: string): Promise<string[]> {
      const keys: string[] = []
      let token: string | undefined
      do {
         
        const page = await client.send(new s3.ListObjectsV2Command({Bucket: bucket, Prefix: prefix, ContinuationToken: token}))
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key)
        token = page.NextContinuationToken
      } while (token)
      return keys.sort()
    },
    async stop(): Promise<void> {
      client.destroy()
      await stop()
    },
  }
}
