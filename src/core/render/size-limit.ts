import {UserError} from '../errors.js'
import {displayName} from '../model/child-names.js'
import type {Manifest} from './render.js'

/**
 * etcd refuses a request above 1.5 MiB (its default --max-request-bytes, which kube-apiserver
 * inherits), and the API server then fails with "etcdserver: request is too large" after the rest
 * of the product has been written. Refusing it before anything is sent keeps apply all or nothing.
 */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024

/** Throws, naming every object and its size, when one is larger than etcd stores. */
export function refuseOversizedObjects(manifests: Manifest[]): void {
  const tooLarge = manifests
    .map((m) => ({m, bytes: Buffer.byteLength(JSON.stringify(m))}))
    .filter(({bytes}) => bytes > MAX_OBJECT_BYTES)
  if (tooLarge.length === 0) return
  const list = tooLarge.map(({m, bytes}) => `${m.kind}/${displayName(m.metadata.name)} (${(bytes / 1024 / 1024).toFixed(1)} MiB)`).join(', ')
  throw new UserError(`${list} ${tooLarge.length === 1 ? 'is' : 'are'} larger than the 1.5 MiB etcd stores per object, so the cluster would refuse ${tooLarge.length === 1 ? 'it' : 'them'}`, {
    suggestions: ['Keep large data out of resources: a contract document by documentRef is inlined into its DataContract, so split a huge contract, or move sample data and long descriptions into files the product reads at run time.'],
  })
}
