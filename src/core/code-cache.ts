/*
 * V8's code cache for the large CommonJS modules that `validate` loads: the precompiled validators
 * (dist/core/validate/*.generated.cjs, about 1 MB of generated code). Compiling their functions on
 * first use was most of what separates a cold `validate` from a warm one; with the code V8
 * compiled in an earlier run, a run starts from bytecode. Node 20 has no compile cache of its own
 * (module.enableCompileCache() came with Node 22), so this uses vm.Script's cachedData.
 *
 * Caches live in ${DAPPMESH_CACHE:-~/.cache/dappmesh}/code-cache, named by the module, its path
 * and a hash of its source, Node's version and architecture, so an edited or rebuilt module never
 * meets an old cache (V8 itself checks only the source's length). DAPPMESH_CODE_CACHE=off turns this off.
 * A cache that cannot be read, is refused by V8 or cannot be written is no cache: the module is
 * compiled as usual.
 */
import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import Module, {createRequire} from 'node:module'
import path from 'node:path'
import vm from 'node:vm'

import {cacheDir} from './cache-dir.js'

export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DAPPMESH_CODE_CACHE === 'off' || env.DAPPMESH_CODE_CACHE === '0') return undefined
  return path.join(cacheDir(env), 'code-cache')
}

/** Scripts compiled without a usable cache this run, to be saved once the work is done. */
const unsaved: Array<{script: vm.Script; file: string}> = []

/** What loading a module through the cache did, for tests and the bench. */
export const codeCacheStats = {hits: 0, misses: 0, written: 0}

/** `require(file)` for a CommonJS module with no state shared with other modules, through V8's code cache. */
export function requireWithCodeCache(file: string): unknown {
  const dir = codeCacheDir()
  const require = createRequire(file)
  if (!dir) return require(file)
  const source = readFileSync(file, 'utf8')
  const key = createHash('sha256').update(`${process.version} ${process.arch}\n`).update(source).digest('hex').slice(0, 32)
  // Named by where the module is too, so that two installs (or checkouts) keep a cache each.
  const where = createHash('sha256').update(file).digest('hex').slice(0, 8)
  const cacheFile = path.join(dir, `${path.basename(file)}.${where}.${key}.bin`)
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    // none yet
  }
  const script = new vm.Script(Module.wrap(source), {filename: file, cachedData})
  if (cachedData && !script.cachedDataRejected) {
    codeCacheStats.hits++
  } else {
    codeCacheStats.misses++
    // Saved at exit rather than now: then it holds the functions this run compiled, not only the top level.
    if (unsaved.push({script, file: cacheFile}) === 1) process.once('exit', saveCodeCaches)
  }
  const module = {exports: {}}
  ;(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, require, module, file, path.dirname(file))
  return module.exports
}

/** Writes the caches of the modules compiled without one, replacing older caches of the same module. */
export function saveCodeCaches(): void {
  for (const {script, file} of unsaved.splice(0)) {
    try {
      const dir = path.dirname(file)
      mkdirSync(dir, {recursive: true})
      const temporary = `${file}.${process.pid}.tmp`
      writeFileSync(temporary, script.createCachedData())
      renameSync(temporary, file)
      codeCacheStats.written++
      // The caches of earlier builds of this module, at this place, are dead weight now.
      const module = path.basename(file).split('.').slice(0, -2).join('.')
      for (const old of readdirSync(dir)) {
        if (old !== path.basename(file) && old.startsWith(`${module}.`) && old.endsWith('.bin')) rmSync(path.join(dir, old), {force: true})
      }
    } catch {
      // A cache that cannot be written is no cache.
    }
  }
}
