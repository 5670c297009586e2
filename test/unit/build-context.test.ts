import assert from 'node:assert/strict'
import {chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {baseImages, contextDigest, digestTag, withBaseImages} from '../../src/core/build/context-digest.js'
import {parseIgnoreRules} from '../../src/core/build/ignore-file.js'

describe('build: ignore files (.containerignore, .dockerignore)', () => {
  const excludes = (rules: string, file: string) => parseIgnoreRules(rules).excludes(file)

  it('* and ? stay within one path segment', () => {
    assert.equal(excludes('*.log', 'a.log'), true)
    assert.equal(excludes('*.log', 'logs/a.log'), false)
    assert.equal(excludes('a?c', 'abc'), true)
    assert.equal(excludes('a?c', 'a/c'), false)
  })

  it('** spans any number of directories', () => {
    assert.equal(excludes('**/*.log', 'a.log'), true)
    assert.equal(excludes('**/*.log', 'x/y/z.log'), true)
    assert.equal(excludes('docs/**', 'docs/a/b.md'), true)
    assert.equal(excludes('docs/**', 'src/a.md'), false)
  })

  it('a pattern naming a directory excludes everything under it; a leading / and a trailing / change nothing', () => {
    for (const p of ['node_modules', '/node_modules', 'node_modules/']) {
      assert.equal(excludes(p, 'node_modules/x/index.js'), true, p)
      assert.equal(excludes(p, 'src/node_modules.js'), false, p)
    }
  })

  it('! re-includes, and the last matching pattern wins', () => {
    const rules = '*.md\n!README.md\n'
    assert.equal(excludes(rules, 'notes.md'), true)
    assert.equal(excludes(rules, 'README.md'), false)
    assert.equal(excludes('!README.md\n*.md\n', 'README.md'), true)
  })

  it('skips comments and blank lines, and escapes regular-expression characters', () => {
    assert.equal(excludes('# a comment\n\n  \n', '# a comment'), false)
    assert.equal(excludes('a+b.txt', 'a+b.txt'), true)
    assert.equal(excludes('a+b.txt', 'aab.txt'), false)
    assert.equal(excludes('file.[ch]', 'file.c'), true)
    assert.equal(excludes('file.[ch]', 'file.o'), false)
  })
})

describe('build: context digest', () => {
  let tmp: string
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-ctx-'))
  })
  afterEach(() => rmSync(tmp, {recursive: true, force: true}))

  function context(name = 'ctx'): string {
    const dir = path.join(tmp, name)
    mkdirSync(path.join(dir, 'src'), {recursive: true})
    writeFileSync(path.join(dir, 'Containerfile'), 'FROM scratch\nCOPY . /app\n')
    writeFileSync(path.join(dir, 'src/main.sh'), 'echo hi\n')
    writeFileSync(path.join(dir, 'README.md'), 'docs\n')
    return dir
  }
  const digest = async (dir: string) => (await contextDigest(dir, path.join(dir, 'Containerfile'))).digest

  it('is a sha256 of the context, the same for a copy elsewhere, and the tag is its first 12 hex digits', async () => {
    const a = context('a')
    const b = path.join(tmp, 'elsewhere', 'b')
    cpSync(a, b, {recursive: true})
    const d = await digest(a)
    assert.match(d, /^sha256:[0-9a-f]{64}$/)
    assert.equal(await digest(b), d)
    assert.equal(digestTag(d), d.slice(7, 19))
  })

  it('changes when a file, a file name, the Containerfile or the executable bit changes', async () => {
    const dir = context()
    const seen = new Set([await digest(dir)])
    const change = async (what: string, fn: () => void) => {
      fn()
      const d = await digest(dir)
      assert.ok(!seen.has(d), `${what} did not change the digest`)
      seen.add(d)
    }
    await change('content', () => writeFileSync(path.join(dir, 'src/main.sh'), 'echo bye\n'))
    await change('a new file', () => writeFileSync(path.join(dir, 'src/other.sh'), ''))
    await change('the Containerfile', () => writeFileSync(path.join(dir, 'Containerfile'), 'FROM scratch\n'))
    await change('the executable bit', () => chmodSync(path.join(dir, 'src/main.sh'), 0o755))
    await change('a symlink', () => symlinkSync('main.sh', path.join(dir, 'src/link')))
    await change('an empty directory', () => mkdirSync(path.join(dir, 'empty')))
  })

  it('ignores mode bits git does not record (group and other write), so clones with another umask agree', async () => {
    const dir = context()
    chmodSync(path.join(dir, 'README.md'), 0o644)
    const before = await digest(dir)
    chmodSync(path.join(dir, 'README.md'), 0o664)
    assert.equal(await digest(dir), before)
  })

  it('leaves out what .dockerignore excludes', async () => {
    const dir = context()
    writeFileSync(path.join(dir, '.dockerignore'), '*.md\n')
    const before = await contextDigest(dir, path.join(dir, 'Containerfile'))
    assert.ok(!before.files.includes('README.md'))
    writeFileSync(path.join(dir, 'README.md'), 'other docs\n')
    assert.equal(await digest(dir), before.digest)
  })

  it('reads .containerignore before .dockerignore, as buildah and podman do', async () => {
    const dir = context()
    writeFileSync(path.join(dir, '.dockerignore'), 'src\n')
    writeFileSync(path.join(dir, '.containerignore'), 'README.md\n')
    const {files} = await contextDigest(dir, path.join(dir, 'Containerfile'))
    assert.ok(files.includes('src/main.sh'))
    assert.ok(!files.includes('README.md'))
  })

  it('keeps the Containerfile and the ignore file even when the rules exclude them', async () => {
    const dir = context()
    writeFileSync(path.join(dir, '.dockerignore'), '*\n')
    const {files} = await contextDigest(dir, path.join(dir, 'Containerfile'))
    assert.deepEqual(files, ['.dockerignore', 'Containerfile'])
    const before = await digest(dir)
    writeFileSync(path.join(dir, 'Containerfile'), 'FROM scratch\n')
    assert.notEqual(await digest(dir), before)
  })

  it('re-includes a file under an excluded directory when a ! rule names it', async () => {
    const dir = context()
    writeFileSync(path.join(dir, '.dockerignore'), 'src\n!src/main.sh\n')
    writeFileSync(path.join(dir, 'src/skip.sh'), '')
    const {files} = await contextDigest(dir, path.join(dir, 'Containerfile'))
    assert.ok(files.includes('src/main.sh'))
    assert.ok(!files.includes('src/skip.sh'))
  })
})

describe('build: base images', () => {
  it('lists each FROM image once, skipping scratch, earlier stages and ARG-made references', () => {
    const file = [
      '# syntax=docker/dockerfile:1',
      'ARG VERSION=1',
      'FROM --platform=$BUILDPLATFORM golang:1.22 AS build',
      'RUN go build ./...',
      'from build as test',
      'FROM registry.example/base:${VERSION}',
      'FROM scratch',
      'FROM \\',
      '  debian:bookworm-slim',
      'COPY --from=build /out /out',
      'FROM golang:1.22',
    ].join('\n')
    assert.deepEqual(baseImages(file), ['golang:1.22', 'debian:bookworm-slim'])
  })

  it('folds the base images\' IDs into the digest: a new base ID is a new digest, no bases the same digest', () => {
    const context = 'sha256:' + 'a'.repeat(64)
    assert.equal(withBaseImages(context, []), context)
    const one = withBaseImages(context, [['base:1', 'sha256:111']])
    assert.match(one, /^sha256:[0-9a-f]{64}$/)
    assert.equal(withBaseImages(context, [['base:1', 'sha256:111']]), one, 'deterministic')
    assert.notEqual(withBaseImages(context, [['base:1', 'sha256:222']]), one)
    assert.notEqual(withBaseImages(context, [['base:1', undefined]]), one)
    assert.notEqual(withBaseImages('sha256:' + 'b'.repeat(64), [['base:1', 'sha256:111']]), one)
  })
})
