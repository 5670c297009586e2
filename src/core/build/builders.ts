import {execa} from 'execa'

import {UserError, UsageError} from '../errors.js'

export const BUILDERS = ['docker', 'buildah', 'podman'] as const
export type BuilderName = (typeof BUILDERS)[number]

/** One invocation of a tool: always an argument array, never a shell string. */
export interface Invocation {
  file: string
  args: string[]
}

export interface Builder {
  name: BuilderName
  /** docker only: `docker buildx build` instead of the classic builder. */
  buildx: boolean
  /** Global flags before the subcommand (buildah, podman): storage root, run root, driver. */
  globalArgs: string[]
}

export interface BuildRequest {
  contextDir: string
  containerfile: string
  /** The full reference to tag the image with, `repository:tag`. */
  reference: string
  platform?: string
  /** Where the builder writes the id of the image it made. */
  iidFile: string
}

/**
 * Storage for buildah and podman from the environment, so tests (and CI jobs) can keep images
 * in a temporary directory: DAPPMESH_STORAGE_ROOT, DAPPMESH_STORAGE_RUNROOT and
 * DAPPMESH_STORAGE_DRIVER (vfs works everywhere). CONTAINERS_STORAGE_CONF, which both tools
 * read themselves, works as well.
 */
export function storageArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  const args: string[] = []
  if (env.DAPPMESH_STORAGE_ROOT) args.push('--root', env.DAPPMESH_STORAGE_ROOT)
  if (env.DAPPMESH_STORAGE_RUNROOT) args.push('--runroot', env.DAPPMESH_STORAGE_RUNROOT)
  if (env.DAPPMESH_STORAGE_DRIVER) args.push('--storage-driver', env.DAPPMESH_STORAGE_DRIVER)
  return args
}

export function makeBuilder(name: BuilderName, options: {buildx?: boolean; env?: NodeJS.ProcessEnv} = {}): Builder {
  return {name, buildx: name === 'docker' && Boolean(options.buildx), globalArgs: name === 'docker' ? [] : storageArgs(options.env)}
}

/**
 * `RUN` steps under buildah and podman use chroot isolation unless BUILDAH_ISOLATION says
 * otherwise: it needs no OCI runtime, cgroups or user namespaces, so it works inside containers,
 * CI runners and machines where `--isolation oci` fails (as it does on Debian 12 with hybrid cgroups).
 */
function isolationArgs(env: NodeJS.ProcessEnv): string[] {
  return env.BUILDAH_ISOLATION ? [] : ['--isolation', 'chroot']
}

export function buildInvocation(b: Builder, req: BuildRequest, env: NodeJS.ProcessEnv = process.env): Invocation {
  const common = ['-f', req.containerfile, '-t', req.reference, '--iidfile', req.iidFile, ...(req.platform ? ['--platform', req.platform] : [])]
  switch (b.name) {
    case 'docker':
      return b.buildx
        ? {file: 'docker', args: ['buildx', 'build', ...common, '--load', req.contextDir]}
        : {file: 'docker', args: ['build', ...common, req.contextDir]}
    case 'buildah':
      return {file: 'buildah', args: [...b.globalArgs, 'bud', ...isolationArgs(env), ...common, req.contextDir]}
    case 'podman':
      return {file: 'podman', args: [...b.globalArgs, 'build', ...isolationArgs(env), ...common, req.contextDir]}
  }
}

/**
 * Pushes `reference` to its registry. buildah and podman write the manifest digest the registry
 * stored to `digestFile`; docker prints it (`digest: sha256:… size: N`, see pushedDigestFromOutput)
 * and takes TLS settings from its daemon (`insecure-registries`), not from the command line.
 */
export function pushInvocation(b: Builder, reference: string, options: {insecure: boolean; digestFile: string}): Invocation {
  if (b.name === 'docker') return {file: 'docker', args: ['push', reference]}
  const tls = options.insecure ? ['--tls-verify=false'] : []
  return {file: b.name, args: [...b.globalArgs, 'push', ...tls, '--digestfile', options.digestFile, reference, `docker://${reference}`]}
}

export function pushedDigestFromOutput(output: string): string | undefined {
  return /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1]
}

/** Succeeds when the builder's local store holds `reference`. */
export function existsInvocation(b: Builder, reference: string): Invocation {
  switch (b.name) {
    case 'docker':
      return {file: 'docker', args: ['image', 'inspect', reference]}
    case 'buildah':
      return {file: 'buildah', args: [...b.globalArgs, 'inspect', '--type', 'image', reference]}
    case 'podman':
      return {file: 'podman', args: [...b.globalArgs, 'image', 'exists', reference]}
  }
}

/** Prints the ID of `reference` in the builder's local store; fails when it is not there. */
export function imageIdInvocation(b: Builder, reference: string): Invocation {
  switch (b.name) {
    case 'docker':
      return {file: 'docker', args: ['image', 'inspect', '--format', '{{.Id}}', reference]}
    case 'buildah':
      return {file: 'buildah', args: [...b.globalArgs, 'inspect', '--type', 'image', '--format', '{{.FromImageID}}', reference]}
    case 'podman':
      return {file: 'podman', args: [...b.globalArgs, 'image', 'inspect', '--format', '{{.Id}}', reference]}
  }
}

/**
 * What `--load` runs to put a built image into a kind cluster: docker's images go straight in;
 * buildah's and podman's are saved as a docker archive first, which `kind load image-archive` takes.
 */
export function kindLoadInvocations(b: Builder, reference: string, cluster: string, archive: string): Invocation[] {
  switch (b.name) {
    case 'docker':
      return [{file: 'kind', args: ['load', 'docker-image', reference, '--name', cluster]}]
    case 'buildah':
      return [
        {file: 'buildah', args: [...b.globalArgs, 'push', reference, `docker-archive:${archive}:${reference}`]},
        {file: 'kind', args: ['load', 'image-archive', archive, '--name', cluster]},
      ]
    case 'podman':
      return [
        {file: 'podman', args: [...b.globalArgs, 'save', '--format', 'docker-archive', '-o', archive, reference]},
        {file: 'kind', args: ['load', 'image-archive', archive, '--name', cluster]},
      ]
  }
}

interface Answer {
  ok: boolean
  why?: string
}

async function answers(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Answer> {
  const r = await execa(file, args, {env, reject: false, timeout: 15_000, stdin: 'ignore'})
  if (!r.failed) return {ok: true}
  if ((r as {code?: string}).code === 'ENOENT') return {ok: false, why: `${file} is not on PATH`}
  if (r.timedOut) return {ok: false, why: `\`${file} ${args.join(' ')}\` did not answer within 15s`}
  const first = `${r.stderr}`.split('\n').find((l) => l.trim() !== '') ?? `exit ${r.exitCode}`
  return {ok: false, why: `\`${file} ${args.join(' ')}\` failed: ${first.trim()}`}
}

/** Whether the builder can build here: docker needs an engine that answers, the others only themselves. */
async function probe(name: BuilderName, env: NodeJS.ProcessEnv): Promise<Answer> {
  switch (name) {
    case 'docker':
      return answers('docker', ['version', '--format', '{{.Server.Version}}'], env)
    case 'buildah':
      return answers('buildah', ['version'], env)
    case 'podman':
      return answers('podman', ['version'], env)
  }
}

/**
 * The builder to use: the one asked for (which must answer), else the first of docker, buildah,
 * podman that answers. None is a user error that says how to get one.
 */
export async function detectBuilder(preferred: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Builder> {
  if (preferred !== undefined && !(BUILDERS as readonly string[]).includes(preferred)) {
    throw new UsageError(`unknown builder ${preferred}: use one of ${BUILDERS.join(', ')}`)
  }
  const candidates = preferred ? [preferred as BuilderName] : [...BUILDERS]
  const reasons: string[] = []
  for (const name of candidates) {
    const answer = await probe(name, env)
    if (answer.ok) {
      const buildx = name === 'docker' && (await answers('docker', ['buildx', 'version'], env)).ok
      return makeBuilder(name, {buildx, env})
    }
    reasons.push(answer.why!)
  }
  const fix = [
    'Install buildah, which needs no daemon: `apt-get install buildah` (Debian, Ubuntu) or `dnf install buildah` (Fedora, RHEL).',
    'Or install podman, or start a Docker engine, then run dappmesh build again (dappmesh doctor checks this).',
  ]
  if (preferred) throw new UserError(`the ${preferred} builder does not answer: ${reasons[0]}`, {suggestions: [`Drop --builder to use whichever builder answers, or fix ${preferred}.`, ...fix]})
  throw new UserError(`no image builder found: dappmesh build needs docker (with a running engine), buildah or podman (${reasons.join('; ')})`, {suggestions: fix})
}
