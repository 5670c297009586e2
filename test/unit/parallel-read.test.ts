import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

// The compiled modules: the helper thread runs dist/core/project/parse-worker.js.
import {ROOT} from '../helpers/cli.js'

const dist = (file: string) => import(path.join(ROOT, 'dist/core/project', file))

describe('reading a large project on several threads (parallel-read)', function () {
  this.timeout(60_000)
  let dir: string
  let files: string[]
  let mod: any
  let PositionsNeeded: any
  let parseYamlFileFast: any

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-parallel-'))
    // bench/lib/generate.js writes the same kind of project the benchmark validates.
    const {generateProject} = await import(path.join(ROOT, 'bench/lib/generate.js'))
    generateProject(dir, 2000)
    files = await (await dist('files.js')).listYamlFiles(dir)
    mod = await dist('parallel-read.js')
    ;({PositionsNeeded} = await dist('source.js'))
    ;({parseYamlFileFast} = await dist('fast-source.js'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  const sequential = () => files.map((f) => parseYamlFileFast(f, readFileSync(path.join(dir, f), 'utf8')))

  it('gives exactly the sequential result, in file order, with two threads', async () => {
    assert.ok(files.length >= mod.PARALLEL_MIN_FILES, `the project has ${files.length} files`)
    process.env.DAPPMESH_VALIDATE_THREADS = '2'
    try {
      // Every file eight times over: too much for this thread to finish before the helper starts,
      // however warm it is.
      const many = Array.from({length: 8}, () => files).flat()
      const stats = {helperFiles: 0}
      const parallel = await mod.readFilesFast(dir, many, stats)
      assert.ok(stats.helperFiles > 0, 'the helper thread read some of the files')
      const expected = [...sequential(), ...sequential(), ...sequential(), ...sequential(), ...sequential(), ...sequential(), ...sequential(), ...sequential()]
      assert.equal(parallel.length, expected.length)
      for (const [i, file] of parallel.entries()) {
        assert.equal(file.file, expected[i].file)
        assert.deepEqual(file.documents.map((d: any) => [d.index, d.object]), expected[i].documents.map((d: any) => [d.index, d.object]), file.file)
      }
    } finally {
      delete process.env.DAPPMESH_VALIDATE_THREADS
    }
  })

  it('throws PositionsNeeded when any file needs positions, whichever thread reads it', async () => {
    process.env.DAPPMESH_VALIDATE_THREADS = '2'
    // Several files spread over the list, so that the helper thread meets at least one of them.
    const spoiled = files.filter((_, i) => i % 97 === 50)
    for (const f of spoiled) writeFileSync(path.join(dir, f), 'a: &anchor 1\nb: *anchor\n')
    try {
      await assert.rejects(mod.readFilesFast(dir, files), (error: unknown) => error instanceof PositionsNeeded)
    } finally {
      delete process.env.DAPPMESH_VALIDATE_THREADS
    }
  })
})
