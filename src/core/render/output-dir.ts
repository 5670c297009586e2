import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {RENDERED_MARKER} from '../project/files.js'
import type {Manifest} from './render.js'
import {toYaml} from './yaml.js'

export interface WrittenManifests {
  directory: string
  files: string[]
}

const MARKER_TEXT = `This directory holds manifests written by \`dappmesh render --output-dir\`.
dappmesh skips it when it reads a project (validate, render, apply, lineage), even inside one.
`

/**
 * One file per object, numbered in apply order, plus the marker that keeps a later load of the
 * project from reading them back (the README's first steps render into the project itself).
 */
export async function writeManifestFiles(directory: string, items: Manifest[], format: 'yaml' | 'json'): Promise<WrittenManifests> {
  await mkdir(directory, {recursive: true})
  await writeFile(path.join(directory, RENDERED_MARKER), MARKER_TEXT)
  const files: string[] = []
  for (const [i, m] of items.entries()) {
    const file = path.join(directory, `${String(i).padStart(3, '0')}-${m.kind.toLowerCase()}-${m.metadata.name}.${format}`)
    await writeFile(file, format === 'json' ? JSON.stringify(m, null, 2) + '\n' : toYaml(m))
    files.push(file)
  }
  return {directory, files}
}
