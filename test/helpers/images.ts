/**
 * Real image tooling for the build tests: a private containers/storage (vfs, in a temp dir), a
 * base image made from Debian's static busybox (there is no registry to pull one from), and
 * Debian's docker-registry on 127.0.0.1. Everything started here is stopped by PID.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, openSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'

export const BUSYBOX = '/bin/busybox'

/** The tools a test needs that are missing, each with how to get it. */
export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0)
}

export function isStaticBusybox(): boolean {
  if (!existsSync(BUSYBOX)) return false
  const ldd = spawnSync('ldd', [BUSYBOX], {encoding: 'utf8'})
  return /not a dynamic executable|statically linked/.test(`${ldd.stdout}${ldd.stderr}`)
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Environment that points dappmesh (and buildah/podman via the flags it passes) at a private store. */
export function storageEnv(dir: string): Record<string, string> {
  return {DAPPMESH_STORAGE_ROOT: path.join(dir, 'root'), DAPPMESH_STORAGE_RUNROOT: path.join(dir, 'runroot'), DAPPMESH_STORAGE_DRIVER: 'vfs'}
}

export function buildah(env: Record<string, string>, args: string[]): string {
  const global = ['--root', env.DAPPMESH_STORAGE_ROOT, '--runroot', env.DAPPMESH_STORAGE_RUNROOT, '--storage-driver', env.DAPPMESH_STORAGE_DRIVER]
  const r = spawnSync('buildah', [...global, ...args], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`buildah ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout.trim()
}

/** `buildah from scratch`, Debian's static busybox with its applets, committed as `name`. */
export function makeBaseImage(env: Record<string, string>, name: string): void {
  const c = buildah(env, ['from', 'scratch'])
  try {
    buildah(env, ['copy', c, BUSYBOX, '/bin/busybox'])
    buildah(env, ['run', '--isolation', 'chroot', c, '--', '/bin/busybox', '--install', '-s', '/bin'])
    buildah(env, ['config', '--cmd', '/bin/sh', c])
    buildah(env, ['commit', c, name])
  } finally {
    buildah(env, ['rm', c])
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before it was ready`)
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what} was not ready within ${timeoutMs / 1000}s`)
}

export interface Server {
  pid: number
  stop: () => Promise<void>
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      process.kill(child.pid!, 'SIGTERM')
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL')
      }, 5000).unref()
    })
}

/** Debian's docker-registry on 127.0.0.1:port, storing blobs under dir. */
export async function startRegistry(dir: string, port: number, options: {readOnly?: boolean} = {}): Promise<Server> {
  mkdirSync(path.join(dir, 'data'), {recursive: true})
  const config = path.join(dir, 'registry.yml')
  writeFileSync(
    config,
    ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${path.join(dir, 'data')}`, ...(options.readOnly ? ['  maintenance:', '    readonly:', '      enabled: true'] : []), 'http:', `  addr: 127.0.0.1:${port}`, '  secret: dappmesh-test', ''].join('\n'),
  )
  // Its log (a line for every 404 a pushing client probes for) goes to a file beside its data.
  const log = openSync(path.join(dir, 'registry.log'), 'a')
  const child = spawn('docker-registry', ['serve', config], {stdio: ['ignore', log, log]})
  closeSync(log)
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined))?.status === 200, 'docker-registry', child)
  return {pid: child.pid!, stop: stopper(child)}
}

/**
 * `podman system service` on a unix socket, for the real docker client (DOCKER_HOST). runc, not
 * crun: crun refuses hybrid cgroups here. The registry on 127.0.0.1 is declared insecure, as a
 * Docker daemon's insecure-registries would.
 */
export async function startPodmanService(dir: string, env: Record<string, string>, insecureRegistry: string): Promise<Server & {dockerHost: string}> {
  mkdirSync(dir, {recursive: true})
  const files = {
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(dir, 'registries.conf'),
  }
  writeFileSync(files.CONTAINERS_CONF, '[engine]\nruntime = "runc"\n')
  writeFileSync(files.CONTAINERS_STORAGE_CONF, `[storage]\ndriver = "vfs"\ngraphroot = "${env.DAPPMESH_STORAGE_ROOT}"\nrunroot = "${env.DAPPMESH_STORAGE_RUNROOT}"\n`)
  writeFileSync(files.CONTAINERS_REGISTRIES_CONF, `[[registry]]\nlocation = "${insecureRegistry}"\ninsecure = true\n`)
  const socket = path.join(dir, 'docker.sock')
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {stdio: ['ignore', 'ignore', 'inherit'], env: {...process.env, ...files}})
  const dockerHost = `unix://${socket}`
  await waitFor(async () => spawnSync('docker', ['version'], {env: {...process.env, DOCKER_HOST: dockerHost}}).status === 0, 'podman system service', child)
  return {pid: child.pid!, dockerHost, stop: stopper(child)}
}

/** The manifest digest the registry serves for repository:tag, as skopeo reads it. */
export function registryDigest(reference: string): string {
  const r = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reference}`], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`skopeo inspect ${reference} failed: ${r.stderr}`)
  return JSON.parse(r.stdout).Digest
}
