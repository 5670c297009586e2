/**
 * Writes a scaffolded tree all or nothing. Files are first written to a staging directory on the
 * same file system and then renamed into place; if anything fails, whatever was moved in is
 * removed (and, with overwrite, what it replaced is put back), so a failed run leaves no
 * half-written project behind.
 */
import {chmod, lstat, mkdir, mkdtemp, rename, rm, rmdir, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {UserError} from '../errors.js'
import type {PlannedFile} from './builders.js'

export interface WriteOptions {
  /** Replace files that exist already (init --force); otherwise an existing file is a conflict. */
  overwrite?: boolean
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'a directory is in the way of a file',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links in the path',
}

/** A file-system error as the user-fixable problem it is. */
export function fileSystemError(target: string, error: unknown): UserError {
  const e = error as NodeJS.ErrnoException
  const reason = (e.code && REASONS[e.code]) ?? e.message
  const at = e.path && path.resolve(e.path) !== path.resolve(target) ? ` (at ${e.path})` : ''
  return new UserError(`cannot write ${target}: ${reason}${at}; nothing was written`, {
    suggestions: ['Choose a directory you can write to, or fix its permissions.'],
    cause: error,
  })
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string'
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  )
}

/** Creates `dir` and any missing parents; returns the ones it created, outermost first. */
async function makeDirs(dir: string): Promise<string[]> {
  const missing: string[] = []
  let at = path.resolve(dir)
  while (!(await exists(at))) {
    missing.unshift(at)
    const up = path.dirname(at)
    if (up === at) break
    at = up
  }
  for (const d of missing) await mkdir(d)
  return missing
}

async function stage(dir: string, files: PlannedFile[]): Promise<void> {
  for (const f of files) {
    const target = path.join(dir, ...f.path.split('/'))
    await mkdir(path.dirname(target), {recursive: true})
    await writeFile(target, f.content, {flag: 'wx'})
    if (f.mode !== undefined) await chmod(target, f.mode)
  }
}

/**
 * Writes `files` under `root` (created when missing). Returns the paths written, relative to root.
 */
export async function writeTree(root: string, files: PlannedFile[], options: WriteOptions = {}): Promise<string[]> {
  const target = path.resolve(root)
  try {
    if (!(await exists(target))) {
      await writeNew(target, files)
    } else {
      await writeInto(target, files, options)
    }
  } catch (error) {
    if (isErrno(error)) throw fileSystemError(root, error)
    throw error
  }
  return files.map((f) => f.path)
}

/** A new project directory: stage it beside the target and rename it into place in one step. */
async function writeNew(target: string, files: PlannedFile[]): Promise<void> {
  const createdParents = await makeDirs(path.dirname(target))
  let staging: string | undefined
  try {
    staging = await mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.dappmesh-`)).catch((error: NodeJS.ErrnoException) => {
      error.path = path.dirname(target) // the user knows the parent, not our staging name
      throw error
    })
    await stage(staging, files)
    await rename(staging, target)
    staging = undefined
  } catch (error) {
    if (staging) await rm(staging, {recursive: true, force: true}).catch(() => {})
    for (const d of createdParents.reverse()) await rmdir(d).catch(() => {})
    throw error
  }
}

type Step = {kind: 'dir'; path: string} | {kind: 'file'; path: string} | {kind: 'replaced'; path: string; backup: string}

/** An existing directory: stage inside it, then move file by file, keeping a journal to undo. */
async function writeInto(target: string, files: PlannedFile[], options: WriteOptions): Promise<void> {
  if (!options.overwrite) {
    const taken = []
    for (const f of files) if (await exists(path.join(target, ...f.path.split('/')))) taken.push(f.path)
    if (taken.length > 0) {
      throw new UserError(`${taken.length === 1 ? 'a file' : 'files'} to write exist already in ${target}: ${taken.join(', ')}; nothing was written`, {
        suggestions: ['Remove or rename them, or pick another name.'],
      })
    }
  }
  const staging = await mkdtemp(path.join(target, '.dappmesh-staging-'))
  const journal: Step[] = []
  try {
    await stage(path.join(staging, 'new'), files)
    for (const f of files) {
      const parts = f.path.split('/')
      const dest = path.join(target, ...parts)
      for (const d of await makeDirs(path.dirname(dest))) journal.push({kind: 'dir', path: d})
      const existing = await lstat(dest).catch(() => undefined)
      if (existing?.isDirectory()) throw new UserError(`${dest} is a directory, where dappmesh would write a file; nothing was written`, {suggestions: ['Move the directory away, or init into another directory.']})
      if (existing) {
        if (!options.overwrite) throw new UserError(`${dest} appeared while writing; nothing was written`)
        const backup = path.join(staging, 'old', ...parts)
        await mkdir(path.dirname(backup), {recursive: true})
        await rename(dest, backup)
        journal.push({kind: 'replaced', path: dest, backup})
      } else {
        journal.push({kind: 'file', path: dest})
      }
      await rename(path.join(staging, 'new', ...parts), dest)
    }
  } catch (error) {
    await undo(journal)
    await rm(staging, {recursive: true, force: true}).catch(() => {})
    throw error
  }
  await rm(staging, {recursive: true, force: true})
}

async function undo(journal: Step[]): Promise<void> {
  for (const step of [...journal].reverse()) {
    if (step.kind === 'dir') await rmdir(step.path).catch(() => {})
    else {
      await rm(step.path, {force: true}).catch(() => {})
      if (step.kind === 'replaced') await rename(step.backup, step.path).catch(() => {})
    }
  }
}
