import {UserError} from '../errors.js'
import {clusterName} from '../model/child-names.js'
import {API_VERSION, KINDS} from '../model/kinds.js'
import {POD_SECURITY_LABELS} from '../model/pod-security.js'
import {resolveRelative} from '../project/load.js'
import type {KindMap, KindName} from '../model/types.js'
import type {Resource} from '../project/resource.js'
import type {ValidationContext} from '../validate/context.js'
import {loadValidProject} from '../validate/require-valid.js'
import {isPlatformProject} from '../validate/rules/product.js'
import {readImages} from '../build/images-file.js'
import {hasContainerfile, pinnedImage} from './images.js'
import {refuseOversizedObjects} from './size-limit.js'

export const PRODUCT_LABEL = 'dappmesh.io/product'
export const PART_OF_LABEL = 'app.kubernetes.io/part-of'
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'

/** What rendering sets of an object's metadata. */
export interface ManifestMeta {
  name: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/** A rendered object of one of the model's kinds: the project's document without status, in the cluster's names. */
export type ModelManifest = {[K in KindName]: {apiVersion: string; kind: K; metadata: ManifestMeta; spec: KindMap[K]['spec']}}[KindName]

/** A domain's namespace, as rendering makes it. */
export interface NamespaceManifest {
  apiVersion: 'v1'
  kind: 'Namespace'
  metadata: ManifestMeta
}

/** Every object rendering makes. */
export type Manifest = ModelManifest | NamespaceManifest

export interface RenderedProduct {
  product: string
  namespace: string
  /** Cluster-scoped and shared with other products: DataMesh, DataDomain. */
  shared: ModelManifest[]
  /** The domain's namespace, which must exist before anything of the product. */
  namespaceObject: NamespaceManifest
  /** The product's own resources, DataProduct first, then in kind order. */
  objects: ModelManifest[]
  warnings: string[]
}

const KIND_ORDER = new Map(KINDS.map((k, i) => [k.kind, i]))

/** The platform's project (`dappmesh init mesh`): the mesh and its domains, with the domains' namespaces. */
export interface RenderedPlatform {
  platform: true
  shared: ModelManifest[]
  namespaces: NamespaceManifest[]
  warnings: string[]
}

/** Loads, validates and renders the product in `dir` as cluster manifests. */
export async function renderDirectory(dir: string): Promise<RenderedProduct> {
  const rendered = await renderProjectDirectory(dir)
  if ('platform' in rendered) {
    throw new UserError(`${dir} is a platform project (a mesh and its domains, no DataProduct): it has no product`, {
      suggestions: ['Pass the directory of a product (dappmesh init makes one); dappmesh apply and render also take a platform project.'],
    })
  }
  return rendered
}

/** Loads, validates and renders a product's or the platform's project. */
export async function renderProjectDirectory(dir: string): Promise<RenderedProduct | RenderedPlatform> {
  // Rendering reads only the documents' data, never a position: a valid project is read without.
  const {context} = await loadValidProject(dir, 'it cannot be rendered', {positions: false})
  return isPlatformProject(context.project) ? renderPlatform(context) : renderProduct(context)
}

/** The mesh and its domains as applied by the platform project, which alone changes them once they exist. */
export function renderPlatform(ctx: ValidationContext): RenderedPlatform {
  const shared = ctx.project.resources.filter((r) => !r.broken && ctx.valid.has(r)).map((r) => sharedObject(r))
  shared.sort(byKindAndName)
  const namespaces = ctx.all('DataDomain').map((d) => namespaceOf(d.name, d.object.spec.namespace ?? d.name))
  return {platform: true, shared, namespaces, warnings: []}
}

/** A project's object as read, which may carry a status (rendering drops it). */
type WithStatus = KindMap[KindName] & {status?: unknown}

function sharedObject(r: Resource): ModelManifest {
  const {status: _status, ...object}: WithStatus = structuredClone(r.object)
  delete object.metadata.namespace
  object.metadata.labels = {...object.metadata.labels, [MANAGED_BY_LABEL]: 'dappmesh'}
  return object
}

function namespaceOf(domain: string, namespace: string): NamespaceManifest {
  return {apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespace, labels: {'dappmesh.io/domain': domain, [MANAGED_BY_LABEL]: 'dappmesh', ...POD_SECURITY_LABELS}}}
}

function byKindAndName(a: Manifest, b: Manifest): number {
  return KIND_ORDER.get(a.kind)! - KIND_ORDER.get(b.kind)! || a.metadata.name.localeCompare(b.metadata.name)
}

export function renderProduct(ctx: ValidationContext): RenderedProduct {
  const products = ctx.all('DataProduct')
  if (products.length !== 1) {
    throw new UserError(
      products.length === 0 ? `${ctx.project.root} has no DataProduct` : `${ctx.project.root} has ${products.length} DataProducts (${products.map((p) => p.name).join(', ')}); a project is one product`,
      {suggestions: ['Keep exactly one DataProduct per project, in dappmesh.yaml (dappmesh init makes one).']},
    )
  }
  const product = products[0]
  const domain = ctx.get('DataDomain', product.object.spec.domain)!
  const namespace = domain.object.spec.namespace ?? domain.name
  const root = ctx.project.root
  const recorded = readImages(root).images
  const warnings: string[] = []
  const imageOf = (entity: string): string | undefined => {
    if (!hasContainerfile(root, entity)) return undefined
    const {image, pinned} = pinnedImage(product.name, entity, recorded[entity])
    if (!pinned) {
      const warning = `no pushed build recorded for entity ${entity}: using ${image} (run dappmesh build --push to pin it by digest)`
      if (!warnings.includes(warning)) warnings.push(warning)
    }
    return image
  }
  const labels = {[PRODUCT_LABEL]: product.name, [PART_OF_LABEL]: product.name, [MANAGED_BY_LABEL]: 'dappmesh'}

  const shared: ModelManifest[] = []
  const objects: ModelManifest[] = []
  for (const r of ctx.project.resources) {
    if (r.broken || !ctx.valid.has(r)) continue
    if (r.kind === 'DataMesh' || r.kind === 'DataDomain') {
      shared.push(sharedObject(r))
      continue
    }
    // A new top level, metadata and spec, the only parts rendering changes; the rest is shared
    // with the project, which is read for this render alone. A full copy of every object was
    // the largest allocation of rendering a large project.
    const {status: _status, ...top}: WithStatus = r.object
    const object: ModelManifest = {...top, metadata: {...top.metadata}}
    if (top.spec !== undefined) object.spec = {...top.spec}
    object.metadata.namespace = namespace
    // Every product of the domain shares its namespace: the product's name qualifies its resources'
    // (model/child-names.ts), so two products may both have an `operational` storage.
    if (r.kind !== 'DataProduct') object.metadata.name = clusterName(product.name, r.name)
    object.metadata.labels = {...object.metadata.labels, ...labels}
    withImages(ctx, object, imageOf)
    if (object.kind === 'DataContract') inlineDocument(ctx, r, object)
    objects.push(object)
  }
  objects.sort(byKindAndName)
  shared.sort(byKindAndName)
  const namespaceObject = namespaceOf(domain.name, namespace)
  refuseOversizedObjects([...shared, ...objects])
  return {product: product.name, namespace, shared, namespaceObject, objects, warnings}
}

/** Fills in the images `build` makes for an entity where the project leaves them out. */
function withImages(ctx: ValidationContext, object: ModelManifest, imageOf: (entity: string) => string | undefined): void {
  if (object.kind === 'OutputPort' && !object.spec.service?.image && (object.spec.service || object.spec.type === 'api')) {
    const spec = object.spec
    const image = imageOf(spec.entity)
    if (image) spec.service = {...spec.service, image}
  } else if (object.kind === 'InputPort' && !object.spec.image) {
    const spec = object.spec
    const image = imageOf(spec.entity)
    if (image) spec.image = image
  } else if (object.kind === 'DataWorkflow' && !object.spec.image) {
    const spec = object.spec
    const flow = ctx.object('DataFlow', spec.flow)
    const entity = flow && ctx.object('DataSchema', flow.spec.schema)?.spec.entity
    const image = entity ? imageOf(entity) : undefined
    if (image) spec.image = image
  }
}

/** In the cluster a contract carries its document inline: a path on a laptop means nothing there. */
function inlineDocument(ctx: ValidationContext, r: Resource, object: ModelManifest & {kind: 'DataContract'}): void {
  const ref = 'documentRef' in object.spec ? object.spec.documentRef?.path : undefined
  if (ref === undefined) return
  const file = ctx.project.contractDocuments.get(resolveRelative(r.source.file, ref))
  if (!file || file.documents.length === 0) return
  const document = file.documents[0]
  // The data converted at parse time (the only thing a document read without positions has),
  // shared rather than copied: nothing changes a rendered object after rendering.
  object.spec.document = document.object === undefined ? document.doc.toJS({maxAliasCount: 100}) : document.object
  delete object.spec.documentRef
  object.metadata.annotations = {...object.metadata.annotations, 'dappmesh.io/document-path': ref}
}

/** Everything in apply order, as one list: shared, namespace(s), product. */
export function allManifests(rendered: RenderedProduct | RenderedPlatform): Manifest[] {
  if ('platform' in rendered) return [...rendered.shared, ...rendered.namespaces]
  return [...rendered.shared, rendered.namespaceObject, ...rendered.objects]
}

export {API_VERSION}
