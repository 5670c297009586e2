/**
 * For the real-node suites (test/node/): what a local cluster leaves on the host, the busybox
 * image the tests run, kubectl. The suites need root, runc and the CNI plugins; they skip only
 * when not root.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {mirroredName, registryDir} from '../../src/core/cluster/registry.js'
import {ROOT} from './cli.js'
import {buildah, makeBaseImage, storageEnv} from './images.js'

export const BRIDGE = 'dappmesh0'
export const BUSYBOX_IMAGE = 'busybox:dappmesh-test'

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

export function sh(command: string, args: string[], options: {input?: string; timeout?: number; env?: NodeJS.ProcessEnv} = {}): {code: number; stdout: string; stderr: string} {
  const r = spawnSync(command, args, {encoding: 'utf8', input: options.input ?? '', timeout: options.timeout ?? 120_000, env: {...process.env, ...options.env}})
  return {code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? ''}
}

export function kubectl(kubeconfig: string, args: string[], input?: string): string {
  const r = sh('kubectl', ['--kubeconfig', kubeconfig, ...args], {input})
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

/** Lines of `iptables-save` (and ip6tables) without counters or comments: rules and chains. */
function firewall(): string[] {
  const lines: string[] = []
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const r = sh(tool, [])
    lines.push(...r.stdout.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => `${tool} ${line.replace(/\[\d+:\d+\]/, '')}`))
  }
  return lines
}

/**
 * What a local cluster could leave behind on this host, as comparable sets: processes whose
 * command line names the local workdir or our registry's config, mounts under it, network namespaces and interfaces of
 * ours, the pods' cgroups and the firewall.
 */
export interface HostState {
  processes: string[]
  mounts: string[]
  links: string[]
  netns: string[]
  cgroups: string[]
  firewall: string[]
}

export function hostState(localWorkdir: string): HostState {
  const processes: string[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (cmdline.includes(localWorkdir) || cmdline.includes(path.join(registryDir(), 'config.yml'))) processes.push(cmdline.trim())
    } catch {
      // the process ended while we looked
    }
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4]).filter((point) => point?.startsWith(localWorkdir))
  const links = sh('ip', ['-o', 'link', 'show']).stdout.split('\n').map((line) => line.split(':')[1]?.trim().split('@')[0]).filter((name): name is string => Boolean(name) && (name === BRIDGE || name.startsWith('veth')))
  const netns = existsSync('/var/run/netns') ? readdirSync('/var/run/netns') : []
  const cgroups = existsSync('/sys/fs/cgroup/pids') ? readdirSync('/sys/fs/cgroup/pids').filter((name) => name.startsWith('dappmesh-')) : []
  return {processes: processes.sort(), mounts: mounts.sort(), links: links.sort(), netns: netns.sort(), cgroups, firewall: firewall()}
}

/** Builds the busybox test image (Debian's static busybox) and pushes it where the node pulls busybox from. */
export function pushBusybox(): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'dappmesh-node-image-'))
  const env = storageEnv(dir)
  try {
    makeBaseImage(env, 'localhost/busybox-test')
    buildah(env, ['push', '--tls-verify=false', 'localhost/busybox-test', `docker://${mirroredName(BUSYBOX_IMAGE)}`])
  } finally {
    sh('buildah', ['--root', env.DAPPMESH_STORAGE_ROOT, '--runroot', env.DAPPMESH_STORAGE_RUNROOT, '--storage-driver', env.DAPPMESH_STORAGE_DRIVER, 'rm', '-a'])
    rmSync(dir, {recursive: true, force: true})
  }
}

/** The product images (test fixtures: test/images/build.sh), built or found in the registry. */
export function buildProductImages(): void {
  // .ci/run builds them just before `npm test` and says so: no second pass over the same sources.
  if (process.env.DAPPMESH_TEST_IMAGES_BUILT === '1') return
  const script = path.join(ROOT, 'test/images/build.sh')
  if (!existsSync(script)) throw new Error('test/images/build.sh is missing: the real-node product tests need the images it builds')
  const r = sh('bash', [script], {timeout: 60 * 60_000})
  if (r.code !== 0) throw new Error(`test/images/build.sh failed (${r.code}):\n${r.stderr.slice(-3000)}`)
}
