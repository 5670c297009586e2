import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {mkdir, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

/** What `dappmesh build` records for one entity in `.dappmesh/images.json`. */
export interface ImageRecord {
  /** Where the image lives, without tag: `127.0.0.1:5000/sales/orders-orders` or `orders-orders`. */
  repository: string
  tag: string
  /** The manifest digest the registry holds (`sha256:…`); only after a push. */
  digest?: string
  /** The builder's local image id, for images that were built but not pushed. */
  imageId?: string
  builder: string
  /** The build context's content digest (see context-digest.ts) the image was built from. */
  contextDigest: string
  platform?: string
  /** ISO time of the build or push that wrote this record. */
  builtAt: string
}

export interface ImagesFile {
  version: 1
  images: Record<string, ImageRecord>
}

export const IMAGES_FILE = path.join('.dappmesh', 'images.json')

/** The records of the last builds of the project at `root`; empty when none or unreadable. */
export function readImages(root: string): ImagesFile {
  const file = path.join(root, IMAGES_FILE)
  if (!existsSync(file)) return {version: 1, images: {}}
  try {
    const data = JSON.parse(readFileSync(file, 'utf8'))
    const images: Record<string, ImageRecord> = {}
    for (const [entity, r] of Object.entries<any>(data?.images ?? {})) {
      if (typeof r?.repository === 'string' && typeof r?.tag === 'string' && typeof r?.contextDigest === 'string') images[entity] = r
    }
    return {version: 1, images}
  } catch {
    // A damaged record only costs a rebuild: the next build rewrites it whole.
    return {version: 1, images: {}}
  }
}

/** The pinned reference `repository@sha256:…` of the entity's pushed image, if it was pushed. */
export function imageFor(root: string, entity: string): string | undefined {
  const r = readImages(root).images[entity]
  return r?.digest ? `${r.repository}@${r.digest}` : undefined
}

/**
 * Writes the records atomically (a temporary file in the same directory, then a rename), so a
 * reader such as `render` never sees half a file, even while a build is interrupted.
 */
export async function writeImages(root: string, images: ImagesFile): Promise<string> {
  const file = path.join(root, IMAGES_FILE)
  await mkdir(path.dirname(file), {recursive: true})
  const sorted: ImagesFile = {version: 1, images: Object.fromEntries(Object.entries(images.images).sort(([a], [b]) => a.localeCompare(b)))}
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(temp, JSON.stringify(sorted, null, 2) + '\n')
    await rename(temp, file)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
  return file
}
