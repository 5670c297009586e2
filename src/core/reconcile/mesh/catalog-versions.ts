import type {ObjectMeta} from '../../kube/objects.js'

/** One object that came, went or has another resourceVersion since the last look. */
export interface VersionChange<T> {
  key: string
  /** as last seen; undefined when it is new */
  before?: T
  /** as now; undefined when it is gone */
  after?: T
}

interface Entry<T> {
  object: T
  version?: string
  look: number
}

/**
 * One kind's objects as the catalog's last build saw them, to tell which changed since, by
 * resourceVersion. A cache hands the same object until it changes, so an object seen before at the
 * same version is passed over without computing its key; a copy at the same version (after a
 * relist) is no change either. An object without a resourceVersion is always a change.
 */
export class SeenVersions<T extends {metadata: ObjectMeta}> {
  private readonly byObject = new Map<T, string>()
  private readonly byKey = new Map<string, Entry<T>>()
  private looks = 0

  constructor(private readonly keyOf: (object: T) => string) {}

  /** What changed between the last call's objects and these (each key at most once among them). */
  changes(objects: T[]): VersionChange<T>[] {
    const look = ++this.looks
    const changes: VersionChange<T>[] = []
    for (const object of objects) {
      const version = object.metadata.resourceVersion
      const known = this.byObject.get(object)
      const entry = known === undefined ? undefined : this.byKey.get(known)
      if (entry && entry.object === object && version !== undefined && entry.version === version) {
        entry.look = look
        continue
      }
      const key = known ?? this.keyOf(object)
      const before = this.byKey.get(key)
      if (before) this.byObject.delete(before.object)
      this.byObject.set(object, key)
      this.byKey.set(key, {object, version, look})
      if (!(before && version !== undefined && before.version === version)) changes.push({key, before: before?.object, after: object})
    }
    if (this.byKey.size > objects.length) {
      for (const [key, entry] of this.byKey) {
        if (entry.look === look) continue
        this.byKey.delete(key)
        this.byObject.delete(entry.object)
        changes.push({key, before: entry.object})
      }
    }
    return changes
  }
}
