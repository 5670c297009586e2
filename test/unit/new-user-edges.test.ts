import assert from 'node:assert/strict'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {MAX_OBJECT_BYTES} from '../../src/core/render/size-limit.js'
import {validateDirectory} from '../../src/core/validate/validate.js'
import {STACK_TRACE, cli, fixture} from '../helpers/cli.js'

describe('rough edges a new user hits', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-edges-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const copy = (name: string): string => {
    const to = path.join(dir, name)
    cpSync(fixture('validate', name), to, {recursive: true})
    return to
  }

  describe('init --entity with a space inside a name', () => {
    it('is a usage error (exit 2) that shows the comma-separated form, and writes nothing', () => {
      const target = path.join(dir, 'shop')
      const r = cli(['init', target, '--yes', '--domain', 'sales', '--owner', 'a@example.com', '--entity', 'a,b c'])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /--entity 'a,b c': "b c" holds a space; separate names with commas \(--entity a,b,c\) or repeat --entity/)
      assert.equal(existsSync(target), false)
    })

    it('still takes names separated by commas, with spaces around them', () => {
      const target = path.join(dir, 'shop')
      const r = cli(['init', target, '--yes', '--domain', 'sales', '--owner', 'a@example.com', '--entity', 'orders, customers', '--json'])
      assert.equal(r.code, 0, r.stdout + r.stderr)
      assert.ok(existsSync(path.join(target, 'model', 'customers', 'schema.yaml')))
      assert.ok(existsSync(path.join(target, 'model', 'orders', 'schema.yaml')))
    })
  })

  it('a damaged .dappmesh/images.json makes render fail saying how to fix it', () => {
    const project = copy('valid-minimal')
    mkdirSync(path.join(project, '.dappmesh'))
    writeFileSync(path.join(project, '.dappmesh', 'images.json'), '{"images": {')
    const r = cli(['render', project])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /images\.json is damaged: .*JSON/)
    assert.match(r.stderr, /Run dappmesh build/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('a breaking change reads as a sentence: "changed type from string to integer since 1.0.0"', async () => {
    const result = await validateDirectory(fixture('validate', 'breaking-minor-bump'))
    const message = result.findings.find((f) => f.rule === 'breaking')!.message
    assert.match(message, /"id" changed type from string to integer since \d+\.\d+\.\d+, which breaks/)
    assert.doesNotMatch(message, / than /)
  })

  describe('an object larger than etcd stores (1.5 MiB)', () => {
    let project: string
    /** A DataSchema with one more state of `fields` fields, each with a description of 4,000 characters. */
    const widen = (fields: number) => {
      const file = path.join(project, 'model', 'items', 'schema.yaml')
      const wide = Array.from({length: fields}, (_, i) => `            - name: f${i}\n              type: string\n              description: ${'d'.repeat(4000)}\n`).join('')
      writeFileSync(file, `${readFileSync(file, 'utf8')}        - name: wide\n          fields:\n${wide}`)
    }
    beforeEach(() => {
      project = copy('valid-minimal')
    })

    it('is refused by render, naming it and its size', () => {
      widen(Math.ceil(MAX_OBJECT_BYTES / 4000))
      const r = cli(['render', project])
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /DataSchema\/items \(1\.5 MiB\) is larger than the 1\.5 MiB etcd stores per object/)
      assert.equal(r.stdout, '')
    })

    it('is refused by apply before contacting any cluster', () => {
      widen(Math.ceil(MAX_OBJECT_BYTES / 4000))
      const r = cli(['apply', project, '--kubeconfig', path.join(dir, 'none')])
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /larger than the 1\.5 MiB etcd stores/)
    })

    it('just under the limit is rendered (the control)', () => {
      widen(Math.floor(MAX_OBJECT_BYTES / 4100))
      // Into files: the output is larger than the test's pipe buffer.
      const r = cli(['render', project, '--output-dir', path.join(dir, 'out')])
      assert.equal(r.code, 0, r.stderr)
    })
  })
})
