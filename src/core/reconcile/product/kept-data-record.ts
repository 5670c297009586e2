import {randomBytes} from 'node:crypto'

import {KubeApiError, type KubeRest} from '../../kube/rest.js'
import {SYSTEM_NAMESPACE_NAME} from '../../model/schemas/common.js'
import {MANAGED_BY_LABEL} from '../../render/render.js'
import {FIELD_MANAGER} from './desired.js'

/** On a credentials Secret: the nonce the operator recorded before creating it (see CredentialsRecord). */
export const NONCE_ANNOTATION = 'dappmesh.io/credentials-nonce'

/** The ConfigMap in dappmesh-system that records the credentials Secrets and volume claims kept in one namespace. */
export function recordName(namespace: string): string {
  return `credentials.${namespace}`
}

interface Recorded {
  metadata: {name: string; uid?: string; annotations?: Record<string, string>}
}

interface StatefulSetLike {
  metadata: {name: string; namespace?: string}
  spec?: {replicas?: number; volumeClaimTemplates?: Array<{metadata?: {name?: string}}>}
}

/** The PersistentVolumeClaims a StatefulSet's pods use: `<template>-<statefulset>-<ordinal>`. */
export function claimNames(statefulSet: StatefulSetLike): string[] {
  const replicas = statefulSet.spec?.replicas ?? 1
  return (statefulSet.spec?.volumeClaimTemplates ?? []).flatMap((template) => Array.from({length: replicas}, (_, ordinal) => `${template.metadata?.name}-${statefulSet.metadata.name}-${ordinal}`))
}

/**
 * What the operator itself made of a product's data, so that kept data (a storage removed, or its
 * product deleted, and made again later) is taken up only if it is that very data: the credentials
 * Secrets, and the volume claims of its StatefulSets. Labels and names cannot tell: whoever may
 * create Secrets or claims in the domain namespace may plant one, whose password (or whose volume,
 * written beforehand) a storage added later would use. The record lives where product authors
 * cannot write (a ConfigMap per namespace in dappmesh-system) and outlives products and storages.
 *
 * A Secret's entry is `nonce:<random>` written before the Secret is created (which carries the
 * nonce in an annotation; an operator that dies between the two still knows its Secret), then
 * `uid:<uid>` once the API server has assigned one: the uid cannot be chosen by anyone. A claim,
 * made by the StatefulSet controller, is recorded by uid before the operator removes its
 * StatefulSet, and a StatefulSet is created only if every claim it would use is recorded or absent.
 */
export class KeptDataRecord {
  /** namespace -> Secret name -> entry, as last read or written */
  private readonly entries = new Map<string, Map<string, string>>()
  /** namespaces whose record did not exist when last read: the first write creates it without trying to patch it */
  private readonly absent = new Set<string>()

  constructor(private readonly rest: KubeRest) {}

  /** Whether the operator made (or kept) this object. Reads the record again before saying no (another replica, a restart). */
  async vouches(namespace: string, object: Recorded): Promise<boolean> {
    const matches = (entries: Map<string, string>) => {
      const entry = entries.get(object.metadata.name)
      const nonce = object.metadata.annotations?.[NONCE_ANNOTATION]
      return (object.metadata.uid !== undefined && entry === `uid:${object.metadata.uid}`) || (nonce !== undefined && entry === `nonce:${nonce}`)
    }
    const cached = this.entries.get(namespace)
    if (cached && matches(cached)) return true
    return matches(await this.read(namespace))
  }

  /**
   * Records a nonce for each Secret about to be created (one write), and returns them for the
   * Secrets' annotations. A nonce already recorded is used again: the Secret may have been created
   * by a run that died before recording its uid, and not be in the cache yet.
   */
  async prepare(namespace: string, secretNames: string[]): Promise<Map<string, string>> {
    const entries = this.entries.get(namespace) ?? (await this.read(namespace))
    const nonces = new Map(secretNames.map((name) => [name, /^nonce:(.+)$/.exec(entries.get(name) ?? '')?.[1] ?? randomBytes(16).toString('base64url')]))
    const news = [...nonces].filter(([name, nonce]) => entries.get(name) !== `nonce:${nonce}`)
    if (news.length > 0) await this.write(namespace, Object.fromEntries(news.map(([name, nonce]) => [name, `nonce:${nonce}`])))
    return nonces
  }

  /** Records the uids of objects the operator made or uses (Secrets once created, claims before their StatefulSet goes), in one write. */
  async confirm(namespace: string, uids: Record<string, string>): Promise<void> {
    const known = this.entries.get(namespace)
    const news = Object.entries(uids).filter(([name, uid]) => known?.get(name) !== `uid:${uid}`)
    if (news.length > 0) await this.write(namespace, Object.fromEntries(news.map(([name, uid]) => [name, `uid:${uid}`])))
  }

  /** Records the claims a StatefulSet of ours uses, before it is deleted: they are kept, and taken up by its successor. */
  async keepClaims(statefulSet: StatefulSetLike): Promise<void> {
    const namespace = statefulSet.metadata.namespace!
    const uids: Record<string, string> = {}
    for (const name of claimNames(statefulSet)) {
      const claim = await this.rest.find<Recorded>(claimPath(namespace, name))
      if (claim?.metadata.uid) uids[name] = claim.metadata.uid
    }
    await this.confirm(namespace, uids)
  }

  /** The claims a StatefulSet about to be created would use that exist and are not the operator's (planted). */
  async foreignClaims(statefulSet: StatefulSetLike): Promise<string[]> {
    const namespace = statefulSet.metadata.namespace!
    const foreign: string[] = []
    for (const name of claimNames(statefulSet)) {
      const claim = await this.rest.find<Recorded>(claimPath(namespace, name))
      if (claim && !(await this.vouches(namespace, claim))) foreign.push(name)
    }
    return foreign
  }

  private async read(namespace: string): Promise<Map<string, string>> {
    const found = await this.rest.find<{data?: Record<string, string>}>(`/api/v1/namespaces/${SYSTEM_NAMESPACE_NAME}/configmaps/${recordName(namespace)}`)
    if (found) this.absent.delete(namespace)
    else this.absent.add(namespace)
    const entries = new Map(Object.entries(found?.data ?? {}))
    this.entries.set(namespace, entries)
    return entries
  }

  private async write(namespace: string, data: Record<string, string>): Promise<void> {
    const path = `/api/v1/namespaces/${SYSTEM_NAMESPACE_NAME}/configmaps/${recordName(namespace)}`
    // A merge patch adds these entries and leaves the others (another replica may have written some).
    const patch = () => this.rest.request('PATCH', path, {body: {data}, contentType: 'application/merge-patch+json'})
    const create = () =>
      this.create(namespace, data).catch(async (createError: unknown) => {
        // Made meanwhile by another replica: add to it.
        if (createError instanceof KubeApiError && createError.status === 409) await patch()
        else throw createError
      })
    if (this.absent.has(namespace)) await create()
    else {
      try {
        await patch()
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 404)) throw error
        await create()
      }
    }
    this.absent.delete(namespace)
    const entries = this.entries.get(namespace) ?? new Map<string, string>()
    for (const [name, entry] of Object.entries(data)) entries.set(name, entry)
    this.entries.set(namespace, entries)
  }

  private async create(namespace: string, data: Record<string, string>): Promise<void> {
    const body = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: recordName(namespace), namespace: SYSTEM_NAMESPACE_NAME, labels: {[MANAGED_BY_LABEL]: FIELD_MANAGER}}, data}
    try {
      await this.rest.request('POST', `/api/v1/namespaces/${SYSTEM_NAMESPACE_NAME}/configmaps`, {body})
    } catch (error) {
      // An operator run without `operator install` (a developer's, a test's): its system namespace may not exist yet.
      if (!(error instanceof KubeApiError && error.status === 404)) throw error
      await this.rest.request('POST', '/api/v1/namespaces', {body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: SYSTEM_NAMESPACE_NAME}}}).catch((nsError: unknown) => {
        if (!(nsError instanceof KubeApiError && nsError.status === 409)) throw nsError
      })
      await this.rest.request('POST', `/api/v1/namespaces/${SYSTEM_NAMESPACE_NAME}/configmaps`, {body})
    }
  }
}

function claimPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}`
}

const records = new WeakMap<KubeRest, KeptDataRecord>()

/** The record of one client (one operator process): its cache saves a read per reconcile. */
export function keptDataRecord(rest: KubeRest): KeptDataRecord {
  let record = records.get(rest)
  if (!record) {
    record = new KeptDataRecord(rest)
    records.set(rest, record)
  }
  return record
}
