import {stat} from 'node:fs/promises'
import path from 'node:path'

import {UsageError} from '../errors.js'

export const ROOT_MARKER = 'dappmesh.yaml'

/** The nearest directory at or above `start` that holds dappmesh.yaml, as git finds .git. */
export async function findProjectRoot(start: string): Promise<string> {
  const from = path.resolve(start)
  const info = await stat(from).catch(() => undefined)
  if (!info?.isDirectory()) throw new UsageError(`${start}: no such directory`, ['Pass --dir with the directory of a data product (the one holding dappmesh.yaml).'])
  let dir = from
  for (;;) {
    const marker = await stat(path.join(dir, ROOT_MARKER)).catch(() => undefined)
    if (marker?.isFile()) return dir
    const up = path.dirname(dir)
    if (up === dir) break
    dir = up
  }
  throw new UsageError(`not inside a dappmesh project: no ${ROOT_MARKER} in ${from} or any directory above it`, [
    'Run this inside a data product (made by `dappmesh init`), or pass --dir with its directory.',
  ])
}
