import {isDeepStrictEqual} from 'node:util'

import {objectPath} from '../../kube/paths.js'
import type {KubeRest} from '../../kube/rest.js'
import type {KubeObject, Namespace, Typed, ValidatingAdmissionPolicyBinding} from '../../kube/types.js'
import {API_VERSION} from '../../model/kinds.js'
import type {OwnWrites} from '../changes.js'
import type {ReconcileContext} from '../controller.js'
import {keyOf} from '../informer.js'
import type {Watched} from '../watched.js'
import {containsAll, withAppliedHash} from '../matches.js'
import {FIELD_MANAGER} from '../product/desired.js'
import {type Component, componentOf, productStatus} from '../product/status.js'
import {DOMAIN_LABEL, type DomainChild, desiredDomainChildren, desiredNamespace} from './desired.js'

export const DOMAIN_CHILD_KINDS = [
  {apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy'},
  {apiVersion: 'v1', kind: 'ResourceQuota'},
  {apiVersion: 'v1', kind: 'LimitRange'},
  {apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy'},
  {apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding'},
] as const

/**
 * Whether a binding's `validationActions` were changed by someone else. Server-side apply treats
 * that list as a set and keeps other managers' entries even when forced: a hand edit to `Warn`
 * would be merged into `[Warn, Deny]`, which the API server refuses, and governance would stay on
 * Warn for good. Such a binding is replaced whole (a PUT at the version read, so nothing is lost
 * to a concurrent write), which drops the foreign entries; never deleted, which would leave the
 * namespace ungoverned for a moment.
 */
function setListTampered(desired: KubeObject, live: KubeObject | undefined): live is KubeObject {
  if (desired.kind !== 'ValidatingAdmissionPolicyBinding' || !live) return false
  const actions = (o: KubeObject) => (o as ValidatingAdmissionPolicyBinding).spec?.validationActions
  return !isDeepStrictEqual(actions(live), actions(desired))
}

/**
 * One DataDomain: its Namespace (shared with `dappmesh apply`, never deleted by the operator), a
 * default-deny ingress NetworkPolicy, with `quota` a ResourceQuota and a LimitRange giving
 * pods default requests, and a ValidatingAdmissionPolicy (+ binding) enforcing the mesh's
 * governance in the namespace. Children are owned by the domain, so deleting it removes them (not the
 * namespace). Applies only what differs; writes status only when it changed. What it writes is
 * told to `writes`, so that the watch events bringing it back wake no reconcile.
 */
export async function reconcileDomain(rest: KubeRest, key: string, ctx: ReconcileContext, writes?: OwnWrites): Promise<void> {
  const domain = ctx.informer('DataDomain').get(key)
  if (!domain || domain.metadata.deletionTimestamp) return
  const failures: string[] = []
  const components: Component[] = []
  const apply = async (unstamped: DomainChild | Typed<Namespace>, cached: KubeObject | undefined) => {
    // The Namespace is shared with apply's field manager, which writes it without the digest.
    const desired = unstamped.kind === 'Namespace' ? unstamped : withAppliedHash(unstamped)
    let live = cached
    if (!cached || !containsAll(cached, desired)) {
      try {
        live = setListTampered(desired, cached)
          ? await rest.request<KubeObject>('PUT', objectPath(desired), {body: {...desired, metadata: {...desired.metadata, resourceVersion: cached!.metadata.resourceVersion}}, query: {fieldManager: FIELD_MANAGER}})
          : await rest.apply<KubeObject>(objectPath(desired), desired, {fieldManager: FIELD_MANAGER, force: desired.kind !== 'Namespace'})
        writes?.wrote(live)
        ctx.log('info', `applied ${desired.kind} ${desired.metadata.namespace ? `${desired.metadata.namespace}/` : ''}${desired.metadata.name}`)
      } catch (error) {
        failures.push(`${desired.kind} ${desired.metadata.name}: ${(error as Error).message}`)
      }
    }
    components.push(componentOf(desired, live))
  }

  const namespace = desiredNamespace(domain)
  const liveNamespace = ctx.informer('Namespace').get(namespace.metadata.name)
  await apply(namespace, liveNamespace)
  if (liveNamespace?.status?.phase === 'Terminating') failures.push(`Namespace ${namespace.metadata.name} is being deleted`)
  const mesh = domain.spec?.mesh
  const liveMesh = mesh ? ctx.informer('DataMesh').get(mesh) : undefined
  const desired = desiredDomainChildren(domain, liveMesh)
  for (const child of desired) await apply(child, ctx.informer(child.kind).get(keyOf(child)))

  // The quota (or the mesh's governance) left the domain: what it made goes too.
  const wanted = new Set(desired.map((c) => `${c.kind}/${keyOf(c)}`))
  for (const {kind} of DOMAIN_CHILD_KINDS) {
    for (const object of ctx.informer(kind).values()) {
      if (object.metadata.labels?.[DOMAIN_LABEL] !== domain.metadata.name) continue
      if (!(object.metadata.ownerReferences ?? []).some((ref) => ref.uid === domain.metadata.uid && ref.controller)) continue
      if (wanted.has(`${kind}/${keyOf(object)}`) || object.metadata.deletionTimestamp) continue
      await rest.delete(objectPath(object)).catch((error) => failures.push(`deleting ${kind} ${object.metadata.name}: ${(error as Error).message}`))
    }
  }

  const missing = mesh && !liveMesh ? [`DataMesh ${mesh}`] : []
  const status = productStatus(domain.status, {generation: domain.metadata.generation ?? 0, components, missing, failures})
  const previous = domain.status ? {observedGeneration: domain.status.observedGeneration, conditions: domain.status.conditions, components: domain.status.components} : undefined
  if (!isDeepStrictEqual(previous, status)) {
    await rest.request<Watched['DataDomain']>('PATCH', `${objectPath({apiVersion: API_VERSION, kind: 'DataDomain', metadata: {name: domain.metadata.name}})}/status`, {body: {status}, contentType: 'application/merge-patch+json'})
  }
  if (failures.length > 0) throw new Error(`DataDomain ${key}: ${failures.join('; ')}`)
}
