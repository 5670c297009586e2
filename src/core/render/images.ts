import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

/** An entity's image as `dappmesh build` recorded it in `.dappmesh/images.json`. */
export interface RecordedImage {
  repository: string
  tag?: string
  digest?: string
}

/**
 * What `dappmesh build` recorded, by entity. The file is the build's; this reads only the fields
 * render needs and ignores the rest, so the two can evolve separately.
 */
export function readRecordedImages(root: string): Map<string, RecordedImage> {
  const file = path.join(root, '.dappmesh', 'images.json')
  const out = new Map<string, RecordedImage>()
  if (!existsSync(file)) return out
  let data: any
  try {
    data = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return out
  }
  const entries: any[] = Array.isArray(data?.images) ? data.images : Object.entries(data?.images ?? data ?? {}).map(([entity, v]) => ({entity, ...(v as object)}))
  for (const e of entries) {
    if (typeof e?.entity === 'string' && typeof e?.repository === 'string') out.set(e.entity, {repository: e.repository, tag: e.tag, digest: e.digest})
  }
  return out
}

/** Whether services/<entity>/ has a Containerfile or Dockerfile for `build` to build. */
export function hasContainerfile(root: string, entity: string): boolean {
  const dir = path.join(root, 'services', entity)
  return existsSync(path.join(dir, 'Containerfile')) || existsSync(path.join(dir, 'Dockerfile'))
}

/** The reference render pins: by digest when built and pushed, else the tag, else `<product>-<entity>:dev`. */
export function pinnedImage(product: string, entity: string, recorded: RecordedImage | undefined): {image: string; pinned: boolean} {
  if (recorded?.digest) return {image: `${recorded.repository}@${recorded.digest}`, pinned: true}
  if (recorded?.tag) return {image: `${recorded.repository}:${recorded.tag}`, pinned: false}
  return {image: `${product}-${entity}:dev`, pinned: false}
}
