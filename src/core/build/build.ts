import {existsSync, readdirSync} from 'node:fs'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'

import {execa} from 'execa'

import {UsageError, UserError} from '../errors.js'
import {mapPool} from '../apply/pool.js'
import {findProjectRoot} from '../scaffold/find-root.js'
import type {ValidationContext} from '../validate/context.js'
import {loadValidProject} from '../validate/require-valid.js'
import {
  type Builder,
  type Invocation,
  buildInvocation,
  detectBuilder,
  existsInvocation,
  imageIdInvocation,
  kindLoadInvocations,
  pushInvocation,
  pushedDigestFromOutput,
} from './builders.js'
import {baseImages, contextDigest, digestTag, withBaseImages} from './context-digest.js'
import {type ImageRecord, readImages, writeImages} from './images-file.js'
import {checkRegistryReachable, registryHost} from './registry.js'
import type {BuildResult, ImageResult} from './result-schema.js'

export const CONTAINERFILES = ['Containerfile', 'Dockerfile'] as const
/** How many of a failed builder's last output lines the error shows. */
export const TAIL_LINES = 20

export interface BuildOptions {
  /** docker, buildah or podman; detected when left out. */
  builder?: string
  /** Overrides the DataProduct's spec.registry. */
  registry?: string
  push?: boolean
  insecureRegistry?: boolean
  /** One tag for every image instead of the context digest's prefix. */
  tag?: string
  platform?: string
  /** Load each image into this kind cluster (`kind load`). */
  kindCluster?: string
  concurrency?: number
  /** Stream each builder's output, line by line. */
  onOutput?: (entity: string, line: string) => void
  /** One line of progress per step of each image. */
  onProgress?: (entity: string, message: string) => void
  env?: NodeJS.ProcessEnv
}

/** An entity whose image `build` makes: the one with services/<entity>/Containerfile or Dockerfile. */
export interface BuildTarget {
  entity: string
  contextDir: string
  containerfile: string
}

export function buildTargets(root: string): BuildTarget[] {
  const services = path.join(root, 'services')
  if (!existsSync(services)) return []
  const targets: BuildTarget[] = []
  for (const d of readdirSync(services, {withFileTypes: true})) {
    if (!d.isDirectory()) continue
    const contextDir = path.join(services, d.name)
    const file = CONTAINERFILES.find((f) => existsSync(path.join(contextDir, f)))
    if (file) targets.push({entity: d.name, contextDir, containerfile: path.join(contextDir, file)})
  }
  return targets.sort((a, b) => a.entity.localeCompare(b.entity))
}

/**
 * Entities that need an image `build` cannot make: an OutputPort with a `service` but no
 * `service.image`, whose entity has no Containerfile. (A port with neither is data only; one
 * with a `service` says a Deployment should serve it, and that needs an image from somewhere.)
 */
export function missingContainerfiles(ctx: ValidationContext, targets: BuildTarget[]): Array<{entity: string; ports: string[]}> {
  const built = new Set(targets.map((t) => t.entity))
  const missing = new Map<string, string[]>()
  for (const port of ctx.all('OutputPort')) {
    const spec = port.object.spec
    if (!spec?.service || spec.service.image || built.has(spec.entity)) continue
    missing.set(spec.entity, [...(missing.get(spec.entity) ?? []), port.name])
  }
  return [...missing].map(([entity, ports]) => ({entity, ports})).sort((a, b) => a.entity.localeCompare(b.entity))
}

/** Builds (and pushes, and loads) the image of every entity with a Containerfile in the project at or above `dir`. */
export async function buildDirectory(dir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const root = await findProjectRoot(dir).catch((error: unknown) => {
    if (error instanceof UsageError) throw new UsageError(error.message, ['Run dappmesh build inside a data product (made by `dappmesh init`), or pass its directory: dappmesh build DIR.'])
    throw error
  })
  const {context} = await loadValidProject(root, 'its images cannot be built')
  const products = context.all('DataProduct')
  if (products.length !== 1) {
    throw new UserError(`${root} has ${products.length === 0 ? 'no DataProduct' : `${products.length} DataProducts`}; a project is one product`, {
      suggestions: ['Keep exactly one DataProduct per project, in dappmesh.yaml (dappmesh init makes one).'],
    })
  }
  const product = products[0]
  const targets = buildTargets(root)
  const missing = missingContainerfiles(context, targets)
  if (missing.length > 0) {
    const list = missing.map((m) => `entity ${m.entity} (output port${m.ports.length === 1 ? '' : 's'} ${m.ports.join(', ')})`).join('; ')
    throw new UserError(`no Containerfile for ${list}: a port with a service needs an image, and none is given`, {
      suggestions: missing.map((m) => `Add services/${m.entity}/Containerfile (or Dockerfile), or set service.image on ${m.ports.join(', ')}.`),
    })
  }

  const registry = (options.registry ?? product.object.spec.registry)?.replace(/\/+$/, '')
  if (options.push && !registry) {
    throw new UsageError('--push needs a registry: pass --registry or set spec.registry in dappmesh.yaml', ['dappmesh build --push --registry 127.0.0.1:5000/sales'])
  }
  if (options.tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(options.tag)) {
    throw new UsageError(`--tag ${options.tag}: not a valid image tag (letters, digits, _ . -, at most 128, not starting with . or -)`)
  }
  if (targets.length === 0) return {root, images: []}

  const env = options.env ?? process.env
  const builder = await detectBuilder(options.builder, env)
  if (options.push) {
    const host = registryHost(registry!)
    if (host) await checkRegistryReachable(host, {insecure: Boolean(options.insecureRegistry)})
  }

  const warnings: string[] = []
  if (builder.name === 'docker' && options.push && options.insecureRegistry) {
    warnings.push(`docker takes registry TLS settings from its daemon, not the command line: if the push fails, add ${registryHost(registry!) ?? registry} to insecure-registries in the daemon's configuration`)
  }
  // A damaged file only costs a rebuild: this build writes it whole again.
  const recorded = readImages(root, {damaged: 'empty'})
  const temp = await mkdtemp(path.join(os.tmpdir(), 'dappmesh-build-'))
  try {
    const concurrency = Math.max(1, options.concurrency ?? 1)
    const outcomes = await mapPool(targets, concurrency, (target) =>
      buildOne(target, {product: product.name, registry, builder, temp, recorded: recorded.images[target.entity], options, env}),
    )
    for (const o of outcomes) if (o.record) recorded.images[o.result.entity] = o.record
    const file = outcomes.some((o) => o.record) ? await writeImages(root, recorded) : undefined
    return {root, builder: builder.buildx ? 'docker buildx' : builder.name, imagesFile: file, images: outcomes.map((o) => o.result), ...(warnings.length > 0 ? {warnings} : {})}
  } finally {
    await rm(temp, {recursive: true, force: true})
  }
}

interface OneContext {
  product: string
  registry?: string
  builder: Builder
  temp: string
  recorded?: ImageRecord
  options: BuildOptions
  env: NodeJS.ProcessEnv
}

class StepFailed extends Error {
  constructor(
    message: string,
    readonly tail: string[],
  ) {
    super(message)
  }
}

async function buildOne(target: BuildTarget, c: OneContext): Promise<{result: ImageResult; record?: ImageRecord}> {
  const {entity} = target
  const progress = (message: string) => c.options.onProgress?.(entity, message)
  const started = Date.now()
  const {digest: filesDigest} = await contextDigest(target.contextDir, target.containerfile)
  // The base images count too: a rebuilt `FROM` image rebuilds the entity though no file changed.
  const bases = baseImages(await readFile(target.containerfile, 'utf8').catch(() => ''))
  const baseIds = await Promise.all(
    bases.map(async (image): Promise<[string, string | undefined]> => {
      const r = await runTool(imageIdInvocation(c.builder, image), entity, undefined, c.env)
      return [image, r.ok ? r.output.trim() || undefined : undefined]
    }),
  )
  const ctxDigest = withBaseImages(filesDigest, baseIds)
  const repository = `${c.registry ? `${c.registry}/` : ''}${c.product}-${entity}`
  const tag = c.options.tag ?? digestTag(ctxDigest)
  const reference = `${repository}:${tag}`
  const platform = c.options.platform
  const base = {entity, image: reference, tag, contextDigest: ctxDigest}
  const rec = c.recorded
  const same = rec !== undefined && rec.contextDigest === ctxDigest && rec.repository === repository && rec.tag === tag && (rec.platform ?? '') === (platform ?? '')
  const push = Boolean(c.options.push)
  const run = (inv: Invocation) => runTool(inv, entity, c.options.onOutput, c.env)

  try {
    let status: ImageResult['status'] = 'unchanged'
    let record: ImageRecord = rec && same ? rec : {repository, tag, builder: c.builder.name, contextDigest: ctxDigest, builtAt: ''}
    if (platform) record.platform = platform
    // A pushed image is judged by the registry's record; a local one only by the builder's store.
    const upToDate = same && (push ? Boolean(rec!.digest) : await exists(c.builder, reference, c.env))
    if (!upToDate) {
      const haveLocal = same && (await exists(c.builder, reference, c.env))
      if (!haveLocal) {
        progress(`building ${reference} with ${c.builder.buildx ? 'docker buildx' : c.builder.name}`)
        const iidFile = path.join(c.temp, `${entity}.iid`)
        const built = await run(buildInvocation(c.builder, {contextDir: target.contextDir, containerfile: target.containerfile, reference, platform, iidFile}, c.env))
        if (!built.ok) throw new StepFailed(`build of entity ${entity} failed (${built.why})`, built.tail)
        const imageId = (await readFile(iidFile, 'utf8').catch(() => '')).trim() || undefined
        record = {repository, tag, imageId, builder: c.builder.name, contextDigest: ctxDigest, builtAt: new Date().toISOString(), ...(platform ? {platform} : {})}
        status = 'built'
        progress(`built ${reference} in ${seconds(started)}`)
      }
      if (push) {
        progress(`pushing ${reference}`)
        const digestFile = path.join(c.temp, `${entity}.digest`)
        const pushed = await run(pushInvocation(c.builder, reference, {insecure: Boolean(c.options.insecureRegistry), digestFile}))
        if (!pushed.ok) throw new StepFailed(`push of ${reference} (entity ${entity}) failed (${pushed.why})`, pushed.tail)
        const digest = (await readFile(digestFile, 'utf8').catch(() => '')).trim() || pushedDigestFromOutput(pushed.output)
        if (!digest) throw new StepFailed(`push of ${reference} (entity ${entity}) did not report the digest the registry stored`, pushed.tail)
        record = {...record, digest, builtAt: new Date().toISOString()}
        status = 'pushed'
        progress(`pushed ${repository}@${digest}`)
      } else if (record.digest && status === 'built') {
        delete record.digest
      }
    } else {
      progress(`unchanged ${rec!.digest ? `${repository}@${rec!.digest}` : reference}`)
    }
    if (c.options.kindCluster) {
      progress(`loading ${reference} into kind cluster ${c.options.kindCluster}`)
      const archive = path.join(c.temp, `${entity}.tar`)
      for (const inv of kindLoadInvocations(c.builder, reference, c.options.kindCluster, archive)) {
        const loaded = await run(inv)
        if (!loaded.ok) throw new StepFailed(`loading ${reference} (entity ${entity}) into kind cluster ${c.options.kindCluster} failed (${loaded.why})`, loaded.tail)
      }
    }
    return {result: {...base, digest: record.digest ?? null, status, durationMs: Date.now() - started}, record}
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error
    progress(`failed: ${error.message}`)
    return {result: {...base, digest: null, status: 'failed', durationMs: Date.now() - started, error: error.message, log: error.tail}}
  }
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`
}

async function exists(builder: Builder, reference: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const inv = existsInvocation(builder, reference)
  const r = await execa(inv.file, inv.args, {env, reject: false, stdin: 'ignore'})
  return !r.failed
}

interface ToolRun {
  ok: boolean
  why: string
  output: string
  tail: string[]
}

/** Runs one tool, streaming its merged output line by line and keeping the last lines for errors. */
async function runTool(inv: Invocation, entity: string, onOutput: BuildOptions['onOutput'], env: NodeJS.ProcessEnv): Promise<ToolRun> {
  const child = execa(inv.file, inv.args, {env, reject: false, all: true, stdin: 'ignore'})
  const tail: string[] = []
  const lines = createInterface({input: child.all!})
  lines.on('line', (line) => {
    tail.push(line)
    if (tail.length > TAIL_LINES) tail.shift()
    onOutput?.(entity, line)
  })
  const r = await child
  const output = typeof r.all === 'string' ? r.all : ''
  if (!r.failed) return {ok: true, why: '', output, tail}
  if ((r as {code?: string}).code === 'ENOENT') {
    const fix = inv.file === 'kind' ? 'kind is not on PATH: install kind to use --load' : `${inv.file} is not on PATH`
    return {ok: false, why: fix, output, tail}
  }
  return {ok: false, why: r.exitCode === undefined ? `${inv.file} was killed by ${r.signal}` : `${inv.file} exited ${r.exitCode}`, output, tail}
}
