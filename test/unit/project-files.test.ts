import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {loadProject} from '../../src/core/project/load.js'
import {validateDirectory} from '../../src/core/validate/validate.js'
import {BIN, cli, fixture} from '../helpers/cli.js'

const WORKFLOW = `name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: npm test
`
const COMPOSE = `services:
  db:
    image: postgres:16
`

describe('project files: what validate, render, apply and lineage read', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-files-'))
    cpSync(fixture('validate', 'valid-minimal'), dir, {recursive: true})
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), {recursive: true})
    writeFileSync(path.join(dir, rel), text)
  }

  describe('YAML of other tools', () => {
    it('is skipped and counted: a GitHub workflow and a compose file leave the project valid', async () => {
      write('.github/workflows/ci.yml', WORKFLOW)
      write('compose.yaml', COMPOSE)
      const result = await validateDirectory(dir)
      assert.equal(result.valid, true, JSON.stringify(result.findings))
      assert.equal(result.skipped, 2)
      assert.equal(result.resources, 10)
    })

    it('is counted in the text summary', () => {
      write('compose.yaml', COMPOSE)
      const r = cli(['validate', dir])
      assert.equal(r.code, 0, r.stdout)
      assert.match(r.stdout, /✔ valid \(10 resources in 10 files; 1 YAML document of other tools skipped\)/)
    })

    it('includes Kubernetes manifests of other kinds', async () => {
      write('k8s/deploy.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n')
      const result = await validateDirectory(dir)
      assert.equal(result.valid, true)
      assert.equal(result.skipped, 2)
    })

    for (const apiVersion of ['dappmesh.io/v1alph1', 'dapmesh.io/v1alpha1', 'Dappmesh.io/v1alpha1']) {
      it(`is not what a misspelled dappmesh apiVersion is: ${apiVersion} stays a finding`, async () => {
        write('storage/object.yaml', `apiVersion: ${apiVersion}\nkind: DataStorage\nmetadata:\n  name: lake\nspec:\n  class: object\n  engine: minio\n`)
        const result = await validateDirectory(dir)
        assert.equal(result.valid, false)
        const hit = result.findings.find((f) => f.file === 'storage/object.yaml')
        assert.equal(hit?.rule, 'unknown-kind')
        assert.match(hit.message, /is not dappmesh\.io\/v1alpha1/)
        assert.equal(result.skipped, 0)
      })
    }

    it('is not what a dappmesh kind is, whatever its apiVersion', async () => {
      write('storage/object.yaml', 'apiVersion: v1\nkind: DataStorage\nmetadata:\n  name: lake\nspec:\n  class: object\n  engine: minio\n')
      const result = await validateDirectory(dir)
      assert.equal(result.findings.find((f) => f.file === 'storage/object.yaml')?.rule, 'unknown-kind')
    })
  })

  describe('.dappmeshignore', () => {
    it('leaves out the files and directories it names, in gitignore syntax', async () => {
      write('drafts/broken.yaml', 'apiVersion: dappmesh.io/v1alpha1\nkind: [unclosed\n')
      write('storage/scratch.tmp.yaml', 'kind: NotOurs\n: bad')
      write('storage/keep.tmp.yaml', 'apiVersion: dappmesh.io/v1alpha1\nkind: DataLake\nmetadata:\n  name: x\n')
      const before = await validateDirectory(dir)
      assert.equal(before.valid, false, 'the control: without .dappmeshignore the broken files are read')
      write('.dappmeshignore', '# drafts are not part of the product\ndrafts/\n*.tmp.yaml\n!keep.tmp.yaml\n')
      const after = await validateDirectory(dir)
      assert.deepEqual(
        after.findings.map((f) => `${f.file} ${f.rule}`),
        ['storage/keep.tmp.yaml unknown-kind'],
        'drafts/ and *.tmp.yaml are left out; the negated keep.tmp.yaml is still read',
      )
    })
  })

  describe('render --output-dir inside the project', () => {
    it('is left out of later loads: validate, render, lineage and apply --dry-run=client still work', () => {
      const first = cli(['render', dir, '--output-dir', path.join(dir, 'deploy')])
      assert.equal(first.code, 0, first.stderr)
      const validate = cli(['validate', dir, '--json'])
      assert.equal(validate.code, 0, validate.stdout)
      assert.equal(JSON.parse(validate.stdout).resources, 10)
      assert.equal(cli(['render', dir, '--output-dir', path.join(dir, 'deploy')]).code, 0)
      assert.equal(cli(['lineage', dir]).code, 0)
      const apply = cli(['apply', dir, '--dry-run=client'])
      assert.equal(apply.code, 0, apply.stderr)
    })

    it('is read again once its marker file is removed (the control)', async () => {
      assert.equal(cli(['render', dir, '--output-dir', path.join(dir, 'deploy')]).code, 0)
      rmSync(path.join(dir, 'deploy', '.dappmesh-rendered'))
      const result = await validateDirectory(dir)
      assert.equal(result.valid, false)
      assert.ok(result.findings.some((f) => f.rule === 'duplicate' && f.file.startsWith('deploy/')))
    })
  })

  describe('exactly one DataProduct', () => {
    it('an empty directory is not valid: a project finding, exit 1', () => {
      const empty = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-empty-'))
      try {
        const r = cli(['validate', empty])
        assert.equal(r.code, 1, r.stdout)
        assert.match(r.stdout, /no DataProduct in .*found no dappmesh resources.*dappmesh init/)
        assert.match(r.stdout, /project$/m)
      } finally {
        rmSync(empty, {recursive: true, force: true})
      }
    })

    it('the wrong directory (a part of the product) is not valid', async () => {
      const result = await validateDirectory(path.join(dir, 'model'))
      assert.equal(result.valid, false)
      assert.equal(result.findings.find((f) => f.rule === 'project')?.message.includes('3 other dappmesh resources'), true)
    })

    it('a directory of other tools\' YAML only says so', async () => {
      const other = path.join(dir, 'ci')
      mkdirSync(other)
      writeFileSync(path.join(other, 'ci.yml'), WORKFLOW)
      const result = await validateDirectory(other)
      assert.match(result.findings[0].message, /found only 1 YAML documents of other tools/)
    })

    it('a second DataProduct is a finding where it is named', async () => {
      write('other/dappmesh.yaml', readFileSync(path.join(dir, 'dappmesh.yaml'), 'utf8').replace('name: items', 'name: things'))
      const result = await validateDirectory(dir)
      const hit = result.findings.find((f) => f.rule === 'project')
      assert.equal(hit?.file, 'other/dappmesh.yaml')
      assert.equal(hit.line, 4)
      assert.match(hit.message, /items, things/)
    })
  })

  describe('a file that cannot be read', () => {
    it('a symbolic link to nothing is a finding, exit 1, also as JSON, never "internal error"', () => {
      symlinkSync(path.join(dir, 'nowhere.yaml'), path.join(dir, 'storage', 'gone.yaml'))
      const r = cli(['validate', dir])
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stdout, /storage\/gone\.yaml\n\s+1:1\s+error\s+cannot read this file: it is a symbolic link to nothing; or list it in \.dappmeshignore/)
      assert.doesNotMatch(r.stdout + r.stderr, /internal error|this is a bug/)
      const json = cli(['validate', dir, '--json'])
      assert.equal(json.code, 1)
      assert.equal(JSON.parse(json.stdout).findings[0].rule, 'yaml')
    })

    it('a file without read permission is a finding naming the cause (run as nobody: root reads anything)', function () {
      if (process.getuid?.() !== 0) this.skip()
      // The copy lives where nobody can reach it; the file itself is made unreadable.
      const shared = mkdtempSync(path.join('/tmp', 'dappmesh-perm-'))
      try {
        cpSync(dir, shared, {recursive: true})
        execFileSync('chmod', ['-R', 'a+rX', shared])
        chmodSync(path.join(shared, 'storage', 'operational.yaml'), 0o000)
        const r = spawnSync(process.execPath, [BIN, 'validate', shared, '--json'], {uid: 65534, gid: 65534, encoding: 'utf8', env: {...process.env, HOME: '/tmp'}, cwd: '/tmp'})
        if (r.error || /EACCES.*run\.js|Cannot find module/.test(r.stderr)) this.skip() // the checkout itself is not readable by nobody
        assert.equal(r.status, 1, r.stderr)
        const finding = JSON.parse(r.stdout).findings.find((f: any) => f.file === 'storage/operational.yaml')
        assert.match(finding.message, /cannot read this file: permission denied/)
      } finally {
        rmSync(shared, {recursive: true, force: true})
      }
    })

    it('a FIFO named like YAML is not read (reading it would block forever)', async () => {
      execFileSync('mkfifo', [path.join(dir, 'pipe.yaml')])
      const project = await loadProject(dir)
      assert.equal(project.resources.length, 10)
    })

    it('a directory named like YAML is walked as a directory', async () => {
      mkdirSync(path.join(dir, 'x.yaml'))
      assert.equal((await validateDirectory(dir)).valid, true)
    })
  })
})
