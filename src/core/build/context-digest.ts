import {createHash} from 'node:crypto'
import {lstat, readFile, readdir, readlink} from 'node:fs/promises'
import path from 'node:path'

import {type IgnoreRules, readIgnoreRules} from './ignore-file.js'

export interface ContextDigest {
  /** `sha256:<hex>` over every entry the builder would be sent. */
  digest: string
  /** Slash-separated paths, relative to the context, in the order they were hashed. */
  files: string[]
}

/**
 * A content digest of a build context: what the builder is sent (the Containerfile and every
 * file the ignore file leaves in), so an unchanged entity keeps its tag and a changed one gets a
 * new one. Deterministic across machines and checkouts: paths sorted byte-wise, and of a file's
 * mode only the executable bit, the part of a mode git records (umask-dependent group and other
 * bits would otherwise give two clones two digests).
 */
export async function contextDigest(contextDir: string, containerfile: string): Promise<ContextDigest> {
  const rules = readIgnoreRules(contextDir)
  const entries: string[] = []
  await walk(contextDir, '', rules, entries)
  const containerfileRel = path.relative(contextDir, containerfile).split(path.sep).join('/')
  // The builder always reads the Containerfile and the ignore file, even when the rules exclude them.
  for (const always of [containerfileRel, rules.file]) if (always && !entries.includes(always)) entries.push(always)
  entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

  const hash = createHash('sha256')
  hash.update(`dappmesh-context-v1\ncontainerfile ${containerfileRel}\n`)
  for (const rel of entries) {
    const full = path.join(contextDir, rel)
    const info = await lstat(full)
    if (info.isSymbolicLink()) hash.update(`l ${rel} ${await readlink(full)}\n`)
    else if (info.isDirectory()) hash.update(`d ${rel}\n`)
    else {
      const exec = (info.mode & 0o111) !== 0 ? 'x' : '-'
      const content = createHash('sha256').update(await readFile(full)).digest('hex')
      hash.update(`f ${exec} ${rel} ${info.size} ${content}\n`)
    }
  }
  return {digest: `sha256:${hash.digest('hex')}`, files: entries}
}

async function walk(root: string, rel: string, rules: IgnoreRules, out: string[]): Promise<void> {
  const dirents = await readdir(path.join(root, rel), {withFileTypes: true})
  for (const d of dirents) {
    const child = rel === '' ? d.name : `${rel}/${d.name}`
    const excluded = rules.excludes(child)
    if (d.isDirectory()) {
      // An excluded directory is skipped whole unless a `!` rule may bring something back.
      if (excluded && !rules.hasExceptions) continue
      if (!excluded) out.push(child)
      await walk(root, child, rules, out)
    } else if (!excluded) {
      out.push(child)
    }
  }
}

/** The short form used as an image tag: the first 12 hex digits, like a short image id. */
export function digestTag(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12)
}

/**
 * The base images a Containerfile builds FROM, in order and without repeats: not `scratch`, not
 * an earlier stage named with AS, and not a reference made of build ARGs (unknown until the build).
 */
export function baseImages(containerfile: string): string[] {
  const stages = new Set<string>()
  const out: string[] = []
  // Continuation lines joined, comments dropped, as the builder reads them.
  const lines = containerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/)
  for (const line of lines) {
    const m = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(line)
    if (!m) continue
    const [, image, stage] = m
    if (image.toLowerCase() !== 'scratch' && !image.includes('$') && !stages.has(image.toLowerCase()) && !out.includes(image)) out.push(image)
    if (stage) stages.add(stage.toLowerCase())
  }
  return out
}

/**
 * The context digest with the base images' IDs folded in, so a rebuilt or re-pulled base image
 * gives a new digest (and tag) though no file changed. `ids` maps each base to its ID in the
 * builder's store, or to undefined when it is not there (the builder will pull it).
 */
export function withBaseImages(context: string, ids: ReadonlyArray<[image: string, id: string | undefined]>): string {
  if (ids.length === 0) return context
  const hash = createHash('sha256').update(`dappmesh-context-v1+bases\n${context}\n`)
  for (const [image, id] of ids) hash.update(`from ${image} ${id ?? 'not-in-local-store'}\n`)
  return `sha256:${hash.digest('hex')}`
}
