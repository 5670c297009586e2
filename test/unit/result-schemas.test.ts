import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {compile} from '../../src/core/validate/ajv.js'
import {ROOT, cli, fixture} from '../helpers/cli.js'
import {RESULT_SCHEMAS, assertResult, errorResultSchema} from '../helpers/result-schemas.js'

/**
 * Every command's --json result is documented by a JSON Schema. Here: every command has one, each
 * compiles under ajv's strict mode, and what the commands print without a cluster matches it. The
 * cluster commands' results are checked where they run (test/integration/*).
 */
describe('--json results match their JSON Schemas', () => {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, unknown>}>}

  it('every command with --json has a schema', () => {
    const withJson = Object.entries(manifest.commands).filter(([, c]) => 'json' in c.flags).map(([id]) => id).sort()
    assert.ok(withJson.length >= 18, `only ${withJson.length} commands in the manifest`)
    assert.deepEqual(withJson.filter((id) => !(id in RESULT_SCHEMAS)), [])
  })

  for (const [id, schema] of [...Object.entries(RESULT_SCHEMAS), ['error', errorResultSchema] as const]) {
    it(`the ${id} schema compiles in strict mode`, () => {
      assert.equal(typeof compile(schema), 'function')
    })
  }

  describe('what commands print', () => {
    let tmp: string
    beforeEach(() => {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-schemas-'))
    })
    afterEach(() => rmSync(tmp, {recursive: true, force: true}))

    const run = (id: string, args: string[], code = 0) => {
      const r = cli([...id.split(':'), ...args, '--json'])
      assert.equal(r.code, code, r.stdout + r.stderr)
      return JSON.parse(r.stdout)
    }

    it('validate, valid and invalid', () => {
      assertResult('validate', run('validate', [fixture('validate', 'valid-minimal')]))
      assertResult('validate', run('validate', [fixture('validate', 'naming')], 1))
    })

    it('render, printed and --output-dir', () => {
      assertResult('render', run('render', [fixture('validate', 'valid-minimal')]))
      assertResult('render', run('render', [fixture('validate', 'valid-minimal'), '--output-dir', path.join(tmp, 'out')]))
    })

    it('crds', () => assertResult('crds', run('crds', [])))
    it('lineage', () => assertResult('lineage', run('lineage', [fixture('validate', 'valid-minimal')])))

    it('init and add entity', () => {
      const dir = path.join(tmp, 'shop')
      assertResult('init', run('init', [dir, '--domain', 'sales', '--owner', 'a@example.com']))
      assertResult('add:entity', run('add:entity', ['customers', '--dir', dir]))
    })

    it('init mesh', () => {
      assertResult('init:mesh', run('init:mesh', [path.join(tmp, 'platform'), '--domain', 'sales', '--owner', 'a@example.com']))
    })

    it('run and test on a scaffolded product', () => {
      const dir = path.join(tmp, 'shop')
      run('init', [dir, '--domain', 'sales', '--owner', 'a@example.com'])
      assertResult('run', run('run', [dir]))
      assertResult('test', run('test', [dir]))
    })

    it('apply --dry-run=client', () => {
      const dir = path.join(tmp, 'p')
      cpSync(fixture('validate', 'valid-minimal'), dir, {recursive: true})
      assertResult('apply', run('apply', [dir, '--dry-run=client']))
    })

    it('operator install --dry-run', () => assertResult('operator:install', run('operator:install', ['--dry-run'])))

    it('doctor against an unreachable cluster (exit 3)', () => {
      assertResult('doctor', run('doctor', ['--kubeconfig', path.join(tmp, 'missing')], 3))
    })

    it('errors: a usage error, a mistyped command, a user error', () => {
      assertResult('', run('validate', ['--bogus'], 2), {error: true})
      assertResult('', run('valdate', [], 2), {error: true})
      assertResult('', run('render', [fixture('validate', 'ref-domain')], 1), {error: true})
    })
  })
})
