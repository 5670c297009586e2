import {createHash} from 'node:crypto'

/**
 * Whether `live` already holds every field of `desired` with the same value: the API server adds
 * defaults and other managers' fields, never changes ours, so a live object that contains the
 * apply configuration needs no apply. Lists must match in length (an extra item is a change).
 */
export function containsAll(live: unknown, desired: unknown): boolean {
  if (desired === null || typeof desired !== 'object') return live === desired || (typeof desired === 'number' && String(desired) === live)
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false
    return desired.every((item, i) => containsAll(live[i], item))
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false
  return Object.entries(desired as Record<string, unknown>).every(([key, value]) => containsAll((live as Record<string, unknown>)[key], value))
}

/** On every object a reconciler applies: a digest of the apply configuration it was made from. */
export const APPLIED_HASH_ANNOTATION = 'dappmesh.io/applied-hash'

/** The digest withAppliedHash puts on `desired` (a caller that remembers it passes it back). */
export function appliedHash(desired: unknown): string {
  return createHash('sha256').update(JSON.stringify(desired)).digest('base64url').slice(0, 22)
}

/**
 * `desired` with a digest of itself in an annotation. `containsAll` alone cannot see a field the
 * reconciler stopped setting (a domain's quota.storage removed: the live object still holds it,
 * and holds everything else desired), so such a change would never be applied. With the digest in
 * the apply configuration, any change to it, removals included, makes the live object differ.
 */
export function withAppliedHash<T extends {metadata: {name: string; annotations?: Record<string, string>}}>(desired: T): T {
  return withHash(desired, appliedHash(desired))
}

/** `desired` with `hash` (its appliedHash, remembered) in the annotation of withAppliedHash. */
export function withHash<T extends {metadata: {name: string; annotations?: Record<string, string>}}>(desired: T, hash: string): T {
  return {...desired, metadata: {...desired.metadata, annotations: {...desired.metadata.annotations, [APPLIED_HASH_ANNOTATION]: hash}}}
}
