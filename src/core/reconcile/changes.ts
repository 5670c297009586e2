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

/**
 * The resourceVersions that a controller's own writes were answered with, by object uid. The
 * watch event that brings such a version back is no news: the reconcile that wrote it took the
 * answer as the live object (measured: each new child's ADDED event, and the finalizer's, woke a
 * reconcile that found nothing to do). Each is forgotten with its echo; one whose echo never comes
 * (a relist skipped it) is forgotten when the set is full (at worst, one reconcile too many).
 */
export class OwnWrites {
  private readonly versions = new Map<string, string>()

  constructor(private readonly limit = 10_000) {}

  /** Remembers what a write answered (nothing when it says no uid or version). */
  wrote(object: {metadata?: {uid?: string; resourceVersion?: string}} | undefined): void {
    const uid = object?.metadata?.uid
    const version = object?.metadata?.resourceVersion
    if (!uid || !version) return
    if (this.versions.size >= this.limit) this.versions.clear()
    this.versions.set(uid, version)
  }

  /** Whether a watched object is exactly what a write answered: then it is forgotten (one echo per write). */
  echoes(object: KubeObject): boolean {
    const uid = object.metadata?.uid
    if (!uid || this.versions.get(uid) !== object.metadata.resourceVersion) return false
    this.versions.delete(uid)
    return true
  }
}
