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
