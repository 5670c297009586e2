import {isDeepStrictEqual} from 'node:util'

import type {KubeObject} from '../kube/objects.js'

/** An object without what changes on every write and says nothing by itself: its resourceVersion, managedFields and status. */
function withoutBookkeeping(object: KubeObject): unknown {
  const {status: _status, metadata, ...rest} = object as KubeObject & {status?: unknown}
  const {resourceVersion: _version, managedFields: _fields, ...meta} = metadata as KubeObject['metadata'] & {managedFields?: unknown}
  return {...rest, metadata: meta}
}

/**
 * Whether a modified object is news for a reconcile: its spec or metadata changed (a hand edit,
 * a deletion starting, an owner added), or what the reconcile reads of its status (`statusView`;
 * none: the status is not read). A StatefulSet's status alone changes several times while its pod
 * starts, and the product's own status write comes back as an event too: most of those change
 * nothing the reconcile would conclude, and each reconcile costs more than this comparison.
 */
export function changedFor<T extends KubeObject>(statusView?: (object: T) => unknown): (previous: T, next: T) => boolean {
  return (previous, next) => {
    if (statusView && !isDeepStrictEqual(statusView(previous), statusView(next))) return true
    return !isDeepStrictEqual(withoutBookkeeping(previous), withoutBookkeeping(next))
  }
}
