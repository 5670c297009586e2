import {existsSync} from 'node:fs'
import path from 'node:path'

import type {ImageRecord} from '../build/images-file.js'

/** Whether services/<entity>/ has a Containerfile or Dockerfile for `build` to build. */
export function hasContainerfile(root: string, entity: string): boolean {
  const dir = path.join(root, 'services', entity)
  return existsSync(path.join(dir, 'Containerfile')) || existsSync(path.join(dir, 'Dockerfile'))
}

/** The reference render pins: by digest when built and pushed, else the tag, else `<product>-<entity>:dev`. */
export function pinnedImage(product: string, entity: string, recorded: ImageRecord | undefined): {image: string; pinned: boolean} {
  if (recorded?.digest) return {image: `${recorded.repository}@${recorded.digest}`, pinned: true}
  if (recorded?.tag) return {image: `${recorded.repository}:${recorded.tag}`, pinned: false}
  return {image: `${product}-${entity}:dev`, pinned: false}
}
