import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {ROOT} from '../helpers/cli.js'

/*
 * The precompiled validators are loaded through V8's code cache (code-cache.ts). What matters:
 * the module's exports are the module's, whatever the cache holds; a cache is used only for the
 * exact source it was made from; and nothing is written when the cache is turned off. Each load
 * is a process of its own, as a run of dappmesh is (within one process V8 keeps compiled scripts
 * in memory and never looks at a cache), through the built module (dist/core/code-cache.js).
 */
const MODULE = path.join(ROOT, 'dist/core/code-cache.js')
describe('loading a CommonJS module through V8\'s code cache (code-cache.ts)', () => {
  let dir: string
  const caches = () => (existsSync(path.join(dir, 'cache/code-cache')) ? readdirSync(path.join(dir, 'cache/code-cache')) : [])
  const module = (name: string, source: string) => {
    const file = path.join(dir, name)
    writeFileSync(file, source)
    return file
  }
  /** Loads `file` in a new process, which saves the cache at exit: its exports (JSON) and whether the cache was used. */
  const load = (file: string, env: NodeJS.ProcessEnv = {}) => {
    const script = `const {requireWithCodeCache, codeCacheStats} = await import(${JSON.stringify(MODULE)}); const exports = requireWithCodeCache(${JSON.stringify(file)}); process.stdout.write(JSON.stringify({exports, hit: codeCacheStats.hits === 1}))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {env: {...process.env, DAPPMESH_CACHE: path.join(dir, 'cache'), ...env}, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    return JSON.parse(r.stdout) as {exports: Record<string, unknown>; hit: boolean}
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-code-cache-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('compiles a module without a cache, saves one, and uses it the next time', () => {
    const file = module('m.cjs', 'const double = (x) => x * 2\nexports.answer = double(21)\n')
    const first = load(file)
    assert.equal(first.hit, false)
    assert.equal(first.exports.answer, 42)
    assert.equal(caches().length, 1)
    const second = load(file)
    assert.equal(second.hit, true)
    assert.equal(second.exports.answer, 42)
  })

  it('gives a module edited to the same length its own cache, and runs the new code', () => {
    const file = module('m.cjs', 'exports.v = 1\n')
    load(file)
    writeFileSync(file, 'exports.v = 2\n')
    const edited = load(file)
    assert.equal(edited.hit, false)
    assert.equal(edited.exports.v, 2)
    assert.equal(caches().length, 1, 'the cache of the old source is removed')
  })

  it('keeps a cache per place, so that two installs of different builds do not evict each other', () => {
    mkdirSync(path.join(dir, 'a'))
    mkdirSync(path.join(dir, 'b'))
    const a = module('a/m.cjs', 'exports.v = "a"\n')
    const b = module('b/m.cjs', 'exports.v = "b"\n')
    load(a)
    load(b)
    assert.equal(caches().length, 2)
    assert.deepEqual([load(a).hit, load(b).hit], [true, true])
    assert.deepEqual([load(a).exports.v, load(b).exports.v], ['a', 'b'])
  })

  it('compiles afresh when the cache file is damaged', () => {
    const file = module('m.cjs', 'exports.v = "fine"\n')
    load(file)
    writeFileSync(path.join(dir, 'cache/code-cache', caches()[0]), 'not a code cache')
    const again = load(file)
    assert.equal(again.hit, false)
    assert.equal(again.exports.v, 'fine')
  })

  it('gives the module require, module and __dirname of its own file', () => {
    module('dep.cjs', 'module.exports = "dep"\n')
    const file = module('m.cjs', 'exports.dep = require("./dep.cjs")\nexports.dir = __dirname\n')
    const {exports} = load(file)
    assert.equal(exports.dep, 'dep')
    assert.equal(exports.dir, dir)
  })

  it('writes nothing with DAPPMESH_CODE_CACHE=off', () => {
    const file = module('m.cjs', 'exports.v = 3\n')
    assert.equal(load(file, {DAPPMESH_CODE_CACHE: 'off'}).exports.v, 3)
    assert.deepEqual(caches(), [])
  })
})
