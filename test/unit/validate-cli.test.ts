import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {RULES} from '../../src/core/validate/finding.js'
import {STACK_TRACE, cli, fixture} from '../helpers/cli.js'

describe('dappmesh validate (CLI)', () => {
  it('exits 0 and says valid for a valid project', () => {
    const r = cli(['validate', fixture('validate', 'valid-minimal')])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /✔ valid \(10 resources in 10 files\)/)
  })

  it('exits 1 and prints findings grouped by file with line:column, rule and fix', () => {
    const r = cli(['validate', fixture('validate', 'ref-domain')])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^dappmesh\.yaml\n {2}6:11 +error +DataProduct\/items spec\.domain: no DataDomain named "shops"; define it or use one of: shop {2}ref$/m)
    assert.match(r.stdout, /✖ 1 error, 0 warnings/)
    assert.doesNotMatch(r.stdout + r.stderr, STACK_TRACE)
  })

  it('--json prints one JSON document with every finding field, and exits 1 when invalid', () => {
    const r = cli(['validate', fixture('validate', 'cycle-flow'), '--json'])
    assert.equal(r.code, 1)
    const result = JSON.parse(r.stdout)
    assert.equal(result.valid, false)
    assert.deepEqual(Object.keys(result.findings[0]).sort(), ['column', 'file', 'kind', 'line', 'message', 'name', 'path', 'rule', 'severity'])
    assert.equal(result.findings[0].rule, 'cycle')
  })

  it('--json on a valid project exits 0 with valid: true', () => {
    const r = cli(['validate', fixture('validate', 'valid-minimal'), '--json'])
    assert.equal(r.code, 0)
    assert.equal(JSON.parse(r.stdout).valid, true)
  })

  it('-o junit prints JUnit XML with one failure per error', () => {
    const r = cli(['validate', fixture('validate', 'governance-pii'), '-o', 'junit'])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="dappmesh validate" tests="1" failures="1">/)
    assert.match(r.stdout, /<testcase classname="model\/items\/schema\.yaml" name="DataSchema\/items governance [^"]+" file="model\/items\/schema\.yaml" line="17"><failure type="governance"/)
  })

  it('-o sarif prints SARIF 2.1.0 with rule ids and regions', () => {
    const r = cli(['validate', fixture('validate', 'naming'), '-o', 'sarif'])
    assert.equal(r.code, 1)
    const sarif = JSON.parse(r.stdout)
    assert.equal(sarif.version, '2.1.0')
    const [result] = sarif.runs[0].results
    assert.equal(result.ruleId, 'naming')
    assert.deepEqual(result.locations[0].physicalLocation, {artifactLocation: {uri: 'mesh/roles.yaml'}, region: {startLine: 4, startColumn: 9}})
    assert.deepEqual(sarif.runs[0].tool.driver.rules.map((rule: {id: string}) => rule.id), [...RULES])
  })

  it('exits 2 with a clear message for a directory that does not exist', () => {
    const r = cli(['validate', '/nonexistent/dappmesh-project'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /no such directory/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('exits 2 for an unknown output format and for an unknown flag', () => {
    const bad = cli(['validate', fixture('validate', 'valid-minimal'), '-o', 'xml'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /Expected --output=xml to be one of: text, json, junit, sarif/)
    const unknown = cli(['validate', '--frobnicate'])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /Nonexistent flag: --frobnicate/)
  })

  describe('--against', () => {
    let work: string
    beforeEach(() => {
      work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-against-'))
    })
    afterEach(() => rmSync(work, {recursive: true, force: true}))

    /** A copy of valid-minimal whose raw state gains a required field in place (no version bump). */
    function breakInPlace(dir: string): void {
      const file = path.join(dir, 'model/items/schema.yaml')
      const text = readFileSync(file, 'utf8').replace('            - name: price\n              type: decimal\n        - name: clean', '            - name: price\n              type: decimal\n            - name: sku\n              type: string\n              required: true\n        - name: clean')
      writeFileSync(file, text)
    }

    it('reports a change made in place to a published version, against a directory', () => {
      const before = path.join(work, 'before')
      const after = path.join(work, 'after')
      cpSync(fixture('validate', 'valid-minimal'), before, {recursive: true})
      cpSync(before, after, {recursive: true})
      breakInPlace(after)
      assert.equal(cli(['validate', after]).code, 0, 'on its own the new project is valid')
      const r = cli(['validate', after, '--against', before, '--json'])
      assert.equal(r.code, 1)
      const [finding] = JSON.parse(r.stdout).findings
      assert.equal(finding.rule, 'breaking')
      assert.match(finding.message, /required field "sku" was added in place \(version 1\.0\.0 was already published; bump the version\)/)
    })

    it('compares against a git ref', () => {
      const repo = path.join(work, 'repo')
      cpSync(fixture('validate', 'valid-minimal'), path.join(repo, 'product'), {recursive: true})
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {cwd: repo})
      git('init', '-q')
      git('add', '.')
      git('commit', '-qm', 'v1')
      breakInPlace(path.join(repo, 'product'))
      const r = cli(['validate', path.join(repo, 'product'), '--against', 'HEAD'])
      assert.equal(r.code, 1, r.stdout + r.stderr)
      assert.match(r.stdout, /required field "sku" was added in place/)
      assert.equal(cli(['validate', path.join(repo, 'product'), '--against', 'no-such-ref']).code, 2)
    })
  })
})
