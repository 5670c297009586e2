import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {mkdir, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {UserError} from '../errors.js'

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

/**
 * The records of the last builds of the project at `root`; empty when there are none. A damaged
 * file is an error by default: render and apply would otherwise quietly fall back to unpinned
 * `:dev` tags. `build` reads with `damaged: 'empty'`, since it rewrites the file whole anyway.
 */
export function readImages(root: string, options: {damaged?: 'error' | 'empty'} = {}): ImagesFile {
  const file = path.join(root, IMAGES_FILE)
  if (!existsSync(file)) return {version: 1, images: {}}
  let problem: string | undefined
  const images: Record<string, ImageRecord> = {}
  try {
    const data = JSON.parse(readFileSync(file, 'utf8'))
    if (data === null || typeof data !== 'object' || Array.isArray(data) || (data.images !== undefined && (data.images === null || typeof data.images !== 'object' || Array.isArray(data.images)))) {
      problem = 'it is not an object with an "images" object'
    } else {
      for (const [entity, r] of Object.entries<{repository?: unknown; tag?: unknown; contextDigest?: unknown} | null>(data.images ?? {})) {
        if (typeof r?.repository === 'string' && typeof r?.tag === 'string' && typeof r?.contextDigest === 'string') images[entity] = r as ImageRecord
        else problem ??= `the record of entity "${entity}" lacks a repository, tag or contextDigest`
      }
    }
  } catch (error) {
    problem = (error as Error).message
  }
  if (problem === undefined || options.damaged === 'empty') return {version: 1, images: problem === undefined ? images : {}}
  throw new UserError(`${file} is damaged: ${problem}`, {
    suggestions: [`Run dappmesh build (with --push to pin by digest) to write it again, or restore it from version control; deleting it makes render and apply use the unpinned <product>-<entity>:dev tags.`],
  })
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
