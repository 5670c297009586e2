/**
 * Runs an image the way a real node does: pulled from the local registry into a private buildah
 * store, its root filesystem mounted, and started by runc (what containerd runs) from an OCI
 * bundle whose process follows Kubernetes' rules: `command` replaces the image's ENTRYPOINT,
 * `args` its CMD, and the security context of Pod Security `restricted` (a numeric non-root user,
 * no capabilities, no privilege escalation), optionally a read-only root filesystem. Needs root.
 * Everything started here is stopped by PID or by its runc id.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

export interface ImageConfig {
  User?: string
  Env?: string[]
  Entrypoint?: string[]
  Cmd?: string[]
  WorkingDir?: string
  StopSignal?: string
  Labels?: Record<string, string>
}

/** A private containers/storage (overlay, in a temp dir) for the images a test runs. */
export class ImageStore {
  constructor(private readonly dir: string) {}

  buildah(args: string[]): string {
    const global = ['--root', path.join(this.dir, 'root'), '--runroot', path.join(this.dir, 'runroot'), '--storage-driver', 'overlay']
    const r = spawnSync('buildah', [...global, ...args], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
    if (r.status !== 0) throw new Error(`buildah ${args.join(' ')} failed: ${r.stderr}`)
    return r.stdout.trim()
  }

  /** Pulls `ref` (plain HTTP: the local registry) and mounts a container of it. */
  mount(ref: string): MountedImage {
    this.buildah(['pull', '--quiet', '--tls-verify=false', `docker://${ref}`])
    const inspected = JSON.parse(this.buildah(['inspect', '--type', 'image', ref]))
    const container = this.buildah(['from', '--pull-never', ref])
    const rootfs = this.buildah(['mount', container])
    return {ref, rootfs, config: inspected.OCIv1.config ?? {}, release: () => void this.buildah(['rm', container])}
  }

  /** Unmounts and removes every container of the store (the store's directory is the caller's). */
  close(): void {
    spawnSync('buildah', ['--root', path.join(this.dir, 'root'), '--runroot', path.join(this.dir, 'runroot'), '--storage-driver', 'overlay', 'rm', '--all'])
  }
}

export interface MountedImage {
  ref: string
  rootfs: string
  config: ImageConfig
  release: () => void
}

export interface RunOptions {
  /** replaces the image's ENTRYPOINT (Kubernetes' `command`) */
  command?: string[]
  /** replaces the image's CMD (Kubernetes' `args`) */
  args?: string[]
  env?: Record<string, string>
  /** numeric uid/gid, as runAsUser/runAsGroup; default: the image's USER when numeric, else root */
  user?: {uid: number; gid: number}
  readOnlyRoot?: boolean
  /** empty, writable directories (emptyDir), e.g. /tmp under a read-only root */
  tmpfs?: string[]
  binds?: {source: string; destination: string; readOnly?: boolean}[]
  /** a network namespace to join (path); default: a new, empty one */
  netns?: string
}

function imageUser(config: ImageConfig): {uid: number; gid: number} {
  const [uid, gid] = (config.User ?? '').split(':').map(Number)
  return Number.isInteger(uid) ? {uid, gid: Number.isInteger(gid) ? gid : uid} : {uid: 0, gid: 0}
}

/** An OCI bundle (config.json) for one run of `image` with `options`. */
export function writeBundle(dir: string, image: MountedImage, options: RunOptions): string {
  mkdirSync(dir, {recursive: true})
  const r = spawnSync('runc', ['spec', '--bundle', dir], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`runc spec failed: ${r.stderr}`)
  const spec = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'))
  const env = new Map((image.config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
  for (const [k, v] of Object.entries(options.env ?? {})) env.set(k, v)
  const argv = [...(options.command ?? image.config.Entrypoint ?? []), ...(options.args ?? (options.command ? [] : (image.config.Cmd ?? [])))]
  spec.process = {
    ...spec.process,
    terminal: false,
    args: argv,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    cwd: image.config.WorkingDir || '/',
    user: options.user ?? imageUser(image.config),
    // capabilities: drop ALL; allowPrivilegeEscalation: false
    capabilities: {bounding: [], effective: [], permitted: [], inheritable: [], ambient: []},
    noNewPrivileges: true,
  }
  spec.root = {path: image.rootfs, readonly: options.readOnlyRoot ?? false}
  spec.hostname = 'fixture'
  for (const destination of options.tmpfs ?? []) spec.mounts.push({destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777']})
  for (const b of options.binds ?? []) spec.mounts.push({destination: b.destination, type: 'bind', source: b.source, options: ['rbind', b.readOnly ? 'ro' : 'rw']})
  if (options.netns) spec.linux.namespaces = spec.linux.namespaces.map((ns: {type: string}) => (ns.type === 'network' ? {type: 'network', path: options.netns} : ns))
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2))
  return dir
}

export interface RunningContainer {
  id: string
  child: ChildProcess
  /** everything the container wrote so far, stdout and stderr together */
  output: () => string
  exited: Promise<number>
  /** a signal to the container's first process (runc forwards what it receives) */
  signal: (signal: NodeJS.Signals) => void
  /** kills and deletes the container; safe to call twice */
  remove: () => Promise<void>
}

/** Starts the bundle in the foreground of a runc child process. */
export function startContainer(bundle: string): RunningContainer {
  const id = `dappmesh-fixture-${randomBytes(4).toString('hex')}`
  const child = spawn('runc', ['run', '--bundle', bundle, id], {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))))
  return {
    id,
    child,
    output: () => out,
    exited,
    signal: (signal) => void process.kill(child.pid!, signal),
    async remove() {
      if (child.exitCode === null && child.signalCode === null) {
        spawnSync('runc', ['kill', id, 'KILL'])
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
      }
      spawnSync('runc', ['delete', '--force', id])
    },
  }
}

/** Runs the bundle to its end; rejects after timeoutMs (the container is removed either way). */
export async function runToEnd(bundle: string, timeoutMs = 60_000): Promise<{code: number; output: string}> {
  const c = startContainer(bundle)
  let timer: NodeJS.Timeout | undefined
  try {
    const code = await Promise.race([c.exited, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`container did not exit within ${timeoutMs / 1000}s: ${c.output()}`)), timeoutMs)))])
    return {code, output: c.output()}
  } finally {
    clearTimeout(timer)
    await c.remove()
  }
}

export interface NetworkNamespace {
  /** path to join (runc's network namespace path) */
  path: string
  /** the address of this machine's end of the link */
  hostIp: string
  /** the address inside the namespace */
  ip: string
  remove: () => void
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`)
}

/**
 * A network namespace of the test's own, linked to this machine by a veth pair on a random /30
 * in 10.214.0.0/16 (the local cluster's pod subnet is 10.213.0.0/24): a client here reaches the
 * container from an address that is not its loopback, as another pod would. No route leads
 * anywhere else.
 */
export function createNetns(): NetworkNamespace {
  const tag = randomBytes(3).toString('hex')
  const name = `dmfix-${tag}`
  const hostIf = `dmf${tag}h`
  const base = 4 * Math.floor(Math.random() * 16_384)
  const prefix = `10.214.${Math.floor(base / 256)}`
  const hostIp = `${prefix}.${(base % 256) + 1}`
  const inner = `${prefix}.${(base % 256) + 2}`
  ip(['netns', 'add', name])
  const remove = () => {
    spawnSync('ip', ['link', 'del', hostIf])
    spawnSync('ip', ['netns', 'del', name])
  }
  try {
    ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', `dmf${tag}c`, 'netns', name])
    ip(['addr', 'add', `${hostIp}/30`, 'dev', hostIf])
    ip(['link', 'set', hostIf, 'up'])
    ip(['-n', name, 'addr', 'add', `${inner}/30`, 'dev', `dmf${tag}c`])
    ip(['-n', name, 'link', 'set', `dmf${tag}c`, 'up'])
    ip(['-n', name, 'link', 'set', 'lo', 'up'])
  } catch (error) {
    remove()
    throw error
  }
  return {path: `/var/run/netns/${name}`, hostIp, ip: inner, remove}
}
