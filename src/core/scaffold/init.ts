/** `dappmesh init`: a new data product project, written all or nothing. */
import {readdir, stat} from 'node:fs/promises'
import path from 'node:path'

import {UserError} from '../errors.js'
import type {InitAnswers} from './answers.js'
import {planProduct} from './builders.js'
import type {InitResult} from './result-schema.js'
import {fileSystemError, writeTree} from './write-tree.js'

/** What init wrote; its JSON shape is initResultSchema. */
export type ScaffoldResult = InitResult

/** Entries that do not make a directory "not empty" for init: a fresh `git init` is fine. */
const IGNORED = new Set(['.git'])

/**
 * Refuses a target init must not write into: a file, or a directory that is not empty (unless
 * `force`). Checked before any question is asked, and again before writing.
 */
export async function checkTarget(dir: string, options: {force?: boolean} = {}): Promise<void> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw fileSystemError(dir, error)
  })
  if (!info) return
  if (!info.isDirectory()) {
    throw new UserError(`${dir} exists and is not a directory`, {suggestions: ['Pass the path of a new or empty directory: dappmesh init NEW-DIR']})
  }
  if (options.force) return
  const entries = (await readdir(dir).catch((error) => {
    throw fileSystemError(dir, error)
  })).filter((e) => !IGNORED.has(e))
  if (entries.length > 0) {
    const shown = entries.sort().slice(0, 5).join(', ') + (entries.length > 5 ? `, … (${entries.length} entries)` : '')
    throw new UserError(`${dir} is not empty (it holds ${shown}); init writes into a new or empty directory`, {
      suggestions: [
        'Pass a new directory: dappmesh init NEW-DIR',
        'Or pass --force to write into it anyway: files init generates replace those of the same name, other files are left alone.',
      ],
    })
  }
}

export async function initProject(dir: string, answers: InitAnswers, options: {force?: boolean} = {}): Promise<ScaffoldResult> {
  await checkTarget(dir, options)
  const files = await planProduct(answers)
  const written = await writeTree(dir, files, {overwrite: options.force})
  return {dir: path.resolve(dir), files: written}
}
