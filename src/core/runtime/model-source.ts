import {stringify} from 'yaml'

import {UserError} from '../errors.js'
import {resourcePath} from '../kube/paths.js'
import type {KubeRest} from '../kube/rest.js'
import {localName} from '../model/child-names.js'
import {API_VERSION} from '../model/kinds.js'
import {fromParsedFiles} from '../project/load.js'
import {parseYamlFile} from '../project/source.js'
import {PRODUCT_LABEL} from '../render/render.js'
import {ValidationContext} from '../validate/context.js'
import {loadValidProject} from '../validate/require-valid.js'
import {type RuntimeModel, runtimeModel} from './model.js'

/** A local runtime serves the project in DIR, validated first: a broken model is never served. */
export async function localModel(dir: string): Promise<RuntimeModel> {
  const {context} = await loadValidProject(dir, 'it cannot be served')
  return runtimeModel(context)
}

/** The kinds a runtime reads of its product (DataMesh and DataDomain say nothing it needs). */
const PRODUCT_KINDS = ['DataProduct', 'DataRole', 'DataSchema', 'DataFlow', 'DataWorkflow', 'DataContract', 'InputPort', 'OutputPort', 'DataStorage'] as const

/**
 * The product's model as the API server holds it: its resources (labelled with the product by
 * render/apply) in its namespace. The cluster admitted them, so they are taken as valid.
 */
export async function clusterModel(client: KubeRest, product: string, namespace: string): Promise<{model: RuntimeModel; resourceVersions: Map<string, string>}> {
  const resourceVersions = new Map<string, string>()
  const files = []
  let found = false
  for (const kind of PRODUCT_KINDS) {
    const selector = kind === 'DataProduct' ? {fieldSelector: `metadata.name=${product}`} : {labelSelector: `${PRODUCT_LABEL}=${product}`}
    const list = await client.get<{metadata: {resourceVersion: string}; items: Array<{metadata: {name: string}} & Record<string, unknown>>}>(resourcePath(API_VERSION, kind, namespace), selector)
    resourceVersions.set(kind, list.metadata.resourceVersion)
    for (const item of list.items) {
      if (kind === 'DataProduct') found = true
      // The model speaks the project's local names (render qualifies them with the product's): a
      // resource not named `<product>.<local>` is not this product's, whatever its label says.
      const name = kind === 'DataProduct' ? item.metadata.name : localName(product, item.metadata.name)
      if (name === undefined) continue
      const object = {apiVersion: API_VERSION, kind, metadata: {...item.metadata, name}, spec: item.spec}
      files.push(parseYamlFile(`cluster/${kind}/${name}.yaml`, stringify(object)))
    }
  }
  if (!found) {
    throw new UserError(`no DataProduct ${product} in namespace ${namespace} (context ${client.loaded.context})`, {
      suggestions: ['Install the product with dappmesh apply, or check --product and -n.'],
    })
  }
  const project = fromParsedFiles('/', files)
  const context = new ValidationContext(project, new Set(project.resources))
  return {model: runtimeModel(context, namespace), resourceVersions}
}

/**
 * Follows the product's resources with watches (no polling) and calls `onChange` with a fresh
 * model after a burst of changes settles; a watch that ends or expires (410) starts over from a
 * new list. Returns when the signal aborts.
 */
export async function followCluster(client: KubeRest, product: string, namespace: string, since: Map<string, string>, onChange: (model: RuntimeModel) => void, signal: AbortSignal, onError: (error: Error) => void = () => {}): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const changed = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      clusterModel(client, product, namespace).then(({model}) => onChange(model), onError)
    }, 500)
  }
  const watchKind = async (kind: string) => {
    let resourceVersion = since.get(kind)
    while (!signal.aborted) {
      try {
        const selector = kind === 'DataProduct' ? {fieldSelector: `metadata.name=${product}`} : {labelSelector: `${PRODUCT_LABEL}=${product}`}
        await client.watch(resourcePath(API_VERSION, kind, namespace), {...selector, resourceVersion}, (event) => {
          if (event.type === 'BOOKMARK') resourceVersion = event.object?.metadata?.resourceVersion ?? resourceVersion
          else if (event.type === 'ERROR') resourceVersion = undefined
          else {
            resourceVersion = event.object?.metadata?.resourceVersion ?? resourceVersion
            changed()
          }
        }, signal)
      } catch (error) {
        if (signal.aborted) return
        onError(error as Error)
        resourceVersion = undefined
        await new Promise((resolve) => setTimeout(resolve, 2000))
      }
      // A restart without a resourceVersion may have missed changes: rebuild once to be sure.
      if (resourceVersion === undefined && !signal.aborted) changed()
    }
  }
  await Promise.all(PRODUCT_KINDS.map((k) => watchKind(k)))
  clearTimeout(timer)
}
