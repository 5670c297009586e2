import {UserError} from '../errors.js'
import {FIELD_MANAGER} from '../kube/crds-install.js'
import {type KubeTarget, loadKubeConfig} from '../kube/kubeconfig.js'
import {objectPath, resourcePath} from '../kube/paths.js'
import {KubeApiError, KubeRest} from '../kube/rest.js'
import type {KubeList} from '../kube/types.js'
import {displayName, shownName} from '../model/child-names.js'
import {API_VERSION, KINDS} from '../model/kinds.js'
import {type Manifest, PRODUCT_LABEL, type RenderedPlatform, type RenderedProduct, renderProjectDirectory} from '../render/render.js'
import {type CrdAction, ensureCrds} from './crds.js'
import {inventoryOf, parseInventory, productWithInventory} from './inventory.js'
import {mapPool} from './pool.js'
import {type LiveShared, planShared, readShared} from './shared.js'
import {waitForProduct} from './wait.js'

export type ObjectAction = 'created' | 'configured' | 'unchanged' | 'pruned'

export interface AppliedObject {
  kind: string
  name: string
  namespace?: string
  action: ObjectAction
}

export interface ApplyOptions extends KubeTarget {
  dir: string
  dryRun?: 'none' | 'client' | 'server'
  forceConflicts?: boolean
  prune?: boolean
  installCrds?: boolean
  wait?: boolean
  timeoutMs?: number
  concurrency?: number
  onProgress?: (message: string) => void
}

export interface ApplyResult {
  /** empty for the platform project */
  product: string
  /** the platform project (`dappmesh init mesh`): its mesh, domains and their namespaces */
  platform?: boolean
  namespace: string
  context?: string
  server?: string
  dryRun: 'none' | 'client' | 'server'
  crds: CrdAction | 'skipped'
  objects: AppliedObject[]
  warnings: string[]
  ready?: boolean
}

const PRODUCT_KINDS = KINDS.filter((k) => k.scope === 'Namespaced')

/**
 * Installs a product: validate → CRDs → namespace → a server-side dry run of everything (so a
 * conflict or an admission error writes nothing of the product) → server-side apply in order
 * (shared mesh and domain, the DataProduct with its inventory, then the rest concurrently) →
 * prune → wait. A second apply of an unchanged project writes nothing and says `unchanged`.
 */
export async function applyProduct(options: ApplyOptions): Promise<ApplyResult> {
  return (await applyProducts([options.dir], options))[0]
}

/**
 * Applies several products (a mesh kept in one repository) through one connection pool: every
 * project is validated first (one invalid project applies nothing), the CRDs are checked once,
 * then the products go in concurrently.
 */
export async function applyProducts(dirs: string[], options: Omit<ApplyOptions, 'dir'>): Promise<ApplyResult[]> {
  const dryRun = options.dryRun ?? 'none'
  const progress = options.onProgress ?? (() => {})
  const projects: Array<RenderedProduct | RenderedPlatform> = []
  for (const dir of dirs) projects.push(await renderProjectDirectory(dir))
  // The platform's projects first: a product may need the mesh and the domain they make.
  const platforms = projects.filter((r): r is RenderedPlatform => 'platform' in r)
  const rendered = projects.filter((r): r is RenderedProduct => !('platform' in r))
  const seen = new Map<string, string>()
  for (const [i, r] of projects.entries()) {
    if ('platform' in r) continue
    const id = `${r.namespace}/${r.product}`
    if (seen.has(id)) throw new UserError(`${dirs[i]} and ${seen.get(id)} are both the product ${id}`, {suggestions: ['Give each product its own name or domain.']})
    seen.set(id, dirs[i])
  }

  if (dryRun === 'client') {
    const ofPlatforms = platforms.map((p) => ({...platformBase(p), dryRun, crds: 'skipped' as const, objects: [...p.shared, ...p.namespaces].map((o) => described(o, 'configured'))}))
    return [...ofPlatforms, ...rendered.map((r) => ({
      product: r.product, namespace: r.namespace, dryRun, warnings: [...r.warnings], crds: 'skipped' as const,
      objects: [...r.shared, r.namespaceObject, productWithInventory(r, []), ...rest(r)].map((o) => described(o, 'configured')),
    }))]
  }

  const loaded = await loadKubeConfig(options)
  const concurrency = options.concurrency ?? 16
  const client = await KubeRest.create(loaded, {maxSockets: concurrency})
  try {
    await client.get('/version')
    const timeoutMs = options.timeoutMs ?? 300_000
    let crds: CrdAction | 'skipped' = 'skipped'
    if (dryRun === 'server') {
      await ensureCrds(client, {install: false, timeoutMs}).catch((error) => {
        throw new UserError(`${(error as Error).message}`, {suggestions: ['A server-side dry run needs the CRDs: run dappmesh apply once without --dry-run, or dappmesh crds | kubectl apply --server-side -f -']})
      })
    } else {
      crds = await ensureCrds(client, {install: options.installCrds ?? true, timeoutMs, onProgress: progress})
    }
    const ofPlatforms: ApplyResult[] = []
    for (const p of platforms) ofPlatforms.push(await applyPlatform(client, p, {dryRun, concurrency, progress, crds, force: options.forceConflicts ?? false}))
    const one = (r: RenderedProduct) => applyRendered(client, r, {...options, dryRun, timeoutMs, concurrency, progress, crds})
    return [...ofPlatforms, ...(await mapPool(rendered, Math.max(1, Math.min(8, Math.floor(concurrency / 2))), one))]
  } finally {
    client.close()
  }
}

interface ApplyRenderedOptions extends Omit<ApplyOptions, 'dir'> {
  dryRun: 'none' | 'server'
  timeoutMs: number
  concurrency: number
  progress: (message: string) => void
  crds: CrdAction | 'skipped'
}

async function applyRendered(client: KubeRest, rendered: RenderedProduct, options: ApplyRenderedOptions): Promise<ApplyResult> {
  const {dryRun, progress, concurrency, crds} = options
  const loaded = client.loaded
  const base = {product: rendered.product, namespace: rendered.namespace, dryRun, warnings: [...rendered.warnings]}
  const {existing, others: ofOthers, shared: sharedLive} = await existingObjects(client, rendered)
  refuseTakeover(rendered, ofOthers)
  // The mesh, the domain and its namespace are the platform's: created when missing, never changed.
  const shared = await planShared(client, [...rendered.shared, rendered.namespaceObject], sharedLive)
  base.warnings.push(...shared.warnings)
  const sharedToCreate = shared.create.filter((o) => o !== rendered.namespaceObject)
  const keptShared = shared.kept.filter((o) => o !== rendered.namespaceObject)
  const leftovers = leftOver(rendered, existing)
  // Without --prune, what left the project stays in the inventory, so a later --prune finds it.
  const product = productWithInventory(rendered, options.prune ? [] : leftovers)
  const apply = (o: Manifest, dry: boolean) => applyOne(client, o, {dryRun: dry, force: options.forceConflicts ?? false})

  // The namespace first (a dry run cannot place objects in a namespace that does not exist).
  const namespaceExisted = !shared.create.includes(rendered.namespaceObject)
  if (dryRun === 'none' && !namespaceExisted) await apply(rendered.namespaceObject, false)

  const ordered = [...sharedToCreate, product, ...rest(rendered)]
  if (dryRun === 'none') {
    progress(`${rendered.product}: checking ${ordered.length} objects with a server-side dry run`)
    await mapPool(ordered, concurrency, (o) => apply(o, true))
  }
  progress(`${rendered.product}: ${dryRun === 'server' ? 'dry-run applying' : 'applying'} ${ordered.length} objects to ${rendered.namespace} (context ${loaded.context})`)
  const results: AppliedObject[] = [described(rendered.namespaceObject, namespaceExisted ? 'unchanged' : 'created'), ...keptShared.map((o) => described(o, 'unchanged'))]
  const record = (o: Manifest, after: LiveShared | undefined) => {
    const before = existing.get(key(o))
    const action: ObjectAction = !before ? 'created' : sameObject(before, after, dryRun === 'server') ? 'unchanged' : 'configured'
    results.push(described(o, action))
    if (action !== 'unchanged') progress(`${o.kind}/${displayName(o.metadata.name)} ${action}`)
  }
  const dry = dryRun === 'server'
  if (dry && !namespaceExisted) {
    // Nothing can be dry-run into a namespace that does not exist yet: check the shared objects
    // and the namespace, and report the product's objects as to be created.
    await apply(rendered.namespaceObject, true)
    for (const o of sharedToCreate) record(o, await apply(o, true))
    for (const o of [product, ...rest(rendered)]) results.push(described(o, 'created'))
    base.warnings.push(`namespace ${rendered.namespace} does not exist yet, so the server could not check the product's own objects`)
    return {...base, context: loaded.context, server: loaded.server, crds, objects: results}
  }
  // Shared objects new to the cluster and the DataProduct in order; everything else concurrently.
  for (const o of [...sharedToCreate, product]) record(o, await apply(o, dry))
  const others = rest(rendered)
  const applied = await mapPool(others, concurrency, (o) => apply(o, dry))
  others.forEach((o, i) => record(o, applied[i]))

  if (options.prune) results.push(...(await prune(client, leftovers, dry, progress)))
  const result: ApplyResult = {...base, context: loaded.context, server: loaded.server, crds, objects: results}
  if (options.wait && dryRun === 'none') {
    progress(`waiting for DataProduct ${rendered.namespace}/${rendered.product} to be Ready`)
    await waitForProduct(client, rendered.namespace, rendered.product, {timeoutMs: options.timeoutMs, onProgress: progress})
    result.ready = true
  }
  return result
}

function platformBase(p: RenderedPlatform): Pick<ApplyResult, 'product' | 'namespace' | 'platform' | 'warnings'> {
  return {product: '', namespace: p.namespaces.map((n) => n.metadata.name).join(','), platform: true, warnings: [...p.warnings]}
}

/**
 * The platform project's apply: the mesh, its domains and their namespaces, checked first with a
 * server-side dry run, then applied in order. Only this changes a mesh or a domain that exists.
 */
async function applyPlatform(client: KubeRest, rendered: RenderedPlatform, options: {dryRun: 'none' | 'server'; concurrency: number; progress: (m: string) => void; crds: CrdAction | 'skipped'; force: boolean}): Promise<ApplyResult> {
  const objects = [...rendered.shared, ...rendered.namespaces]
  const before = await mapPool(objects, options.concurrency, (o) => client.find<LiveShared>(objectPath(o)))
  const apply = (o: Manifest, dry: boolean) => applyOne(client, o, {dryRun: dry, force: options.force})
  const dry = options.dryRun === 'server'
  if (!dry) await mapPool(objects, options.concurrency, (o) => apply(o, true))
  options.progress(`platform: ${dry ? 'dry-run applying' : 'applying'} ${objects.length} objects (context ${client.loaded.context})`)
  const results: AppliedObject[] = []
  for (const [i, o] of objects.entries()) {
    const after = await apply(o, dry)
    const action: ObjectAction = !before[i] ? 'created' : sameObject(before[i], after, dry) ? 'unchanged' : 'configured'
    results.push(described(o, action))
    if (action !== 'unchanged') options.progress(`${o.kind}/${o.metadata.name} ${action}`)
  }
  return {...platformBase(rendered), dryRun: options.dryRun, context: client.loaded.context, server: client.loaded.server, crds: options.crds, objects: results}
}

function rest(rendered: RenderedProduct): Manifest[] {
  return rendered.objects.filter((o) => o.kind !== 'DataProduct')
}

/**
 * Whether applying changed the object. A real apply that changes nothing keeps the
 * resourceVersion; a dry run never bumps it, so there the content is compared instead.
 */
function sameObject(before: LiveShared, after: LiveShared | undefined, dryRun: boolean): boolean {
  if (!dryRun) return before.metadata.resourceVersion === after?.metadata?.resourceVersion
  const content = (o: LiveShared | undefined) => JSON.stringify([o?.spec, o?.metadata?.labels ?? {}, o?.metadata?.annotations ?? {}])
  return content(before) === content(after)
}

function key(o: {kind: string; metadata: {name: string; namespace?: string}}): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`
}

function described(o: Manifest, action: ObjectAction): AppliedObject {
  return {kind: o.kind, ...shownName(o.metadata.name), ...(o.metadata.namespace ? {namespace: o.metadata.namespace} : {}), action}
}

/**
 * What is in the cluster now: one LIST per product kind (every product's, by label), and a GET per
 * shared object. `existing` holds this product's objects and the shared ones; `others`, by key,
 * the product that each object of another product belongs to.
 */
async function existingObjects(client: KubeRest, rendered: RenderedProduct): Promise<{existing: Map<string, LiveShared>; others: Map<string, string | undefined>; shared: Array<LiveShared | 'forbidden' | undefined>}> {
  const existing = new Map<string, LiveShared>()
  const others = new Map<string, string | undefined>()
  const lists = await Promise.all(
    PRODUCT_KINDS.map((k) => client.get<KubeList<LiveShared>>(resourcePath(API_VERSION, k.kind, rendered.namespace), {labelSelector: PRODUCT_LABEL}).catch((error) => {
      if (error instanceof KubeApiError && error.status === 404) return {items: []}
      throw error
    })),
  )
  for (const [i, list] of lists.entries()) {
    for (const item of list.items) {
      const owner = item.metadata.labels?.[PRODUCT_LABEL]
      const k = key({...item, kind: PRODUCT_KINDS[i].kind})
      // Items of a list carry no kind of their own.
      if (owner === rendered.product) existing.set(k, {...item, apiVersion: item.apiVersion ?? API_VERSION, kind: PRODUCT_KINDS[i].kind})
      else others.set(k, owner)
    }
  }
  const shared = await Promise.all([...rendered.shared, rendered.namespaceObject].map((o) => readShared(client, o)))
  for (const item of shared) if (item && item !== 'forbidden') existing.set(key(item), item)
  return {existing, others, shared}
}

/**
 * Product-scoped names are per namespace, shared by every product of the domain: an object of
 * the same kind and name that another product applied is that product's, and a server-side apply
 * would silently take it over (its spec, its product label). Refuse, naming both.
 */
function refuseTakeover(rendered: RenderedProduct, others: Map<string, string | undefined>): void {
  const clashes = rendered.objects.filter((o) => others.has(key(o)))
  if (clashes.length === 0) return
  const said = clashes.map((o) => `${o.kind} ${displayName(o.metadata.name)} (product ${others.get(key(o))})`)
  throw new UserError(`product ${rendered.product} would take over objects of other products in namespace ${rendered.namespace}: ${said.join(', ')}`, {
    suggestions: [
      `Rename them in ${rendered.product}'s project: a name is shared by every product of the domain (e.g. prefix them with ${rendered.product}-)`,
      'Or remove the other product first: dappmesh delete PRODUCT',
    ],
  })
}

async function applyOne(client: KubeRest, object: Manifest, options: {dryRun: boolean; force: boolean}): Promise<LiveShared> {
  try {
    return await client.apply<LiveShared>(objectPath(object), object, {fieldManager: FIELD_MANAGER, force: options.force, dryRun: options.dryRun})
  } catch (error) {
    if (!(error instanceof KubeApiError)) throw error
    const what = `${object.kind}/${displayName(object.metadata.name)}${object.metadata.namespace ? ` in ${object.metadata.namespace}` : ''}`
    if (error.status === 409) {
      throw new UserError(`conflict applying ${what}: ${error.message}`, {
        suggestions: ['Another field manager owns these fields. Rerun with --force-conflicts to take them over, or change them through their owner.'],
      })
    }
    if (error.status === 403) throw new UserError(`forbidden applying ${what}: ${error.message}`, {suggestions: ['Ask for RBAC permission to patch this resource, or use another --context.']})
    throw new UserError(`the API server refused ${what} (HTTP ${error.status}${error.reason ? ` ${error.reason}` : ''}): ${error.message}`)
  }
}

/** Objects the previous inventory listed that still carry the product label and left the project. */
function leftOver(rendered: RenderedProduct, existing: Map<string, LiveShared>): LiveShared[] {
  const current = existing.get(key({kind: 'DataProduct', metadata: {name: rendered.product, namespace: rendered.namespace}}))
  const previous = parseInventory(current?.metadata?.annotations)
  const wanted = new Set(inventoryOf(rendered.objects))
  return [...existing.values()].filter((o) => {
    const id = `${o.kind}/${o.metadata.name}`
    return o.metadata.namespace === rendered.namespace && o.metadata.labels?.[PRODUCT_LABEL] === rendered.product && previous.has(id) && !wanted.has(id) && o.kind !== 'DataProduct'
  })
}

async function prune(client: KubeRest, doomed: LiveShared[], dryRun: boolean, progress: (m: string) => void): Promise<AppliedObject[]> {
  await mapPool(doomed, 8, async (o) => {
    await client.delete(objectPath({...o, apiVersion: API_VERSION}), {dryRun}).catch((error) => {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error
    })
    progress(`${o.kind}/${displayName(o.metadata.name)} pruned`)
  })
  return doomed.map((o) => ({kind: o.kind, ...shownName(o.metadata.name), namespace: o.metadata.namespace, action: 'pruned' as const}))
}
