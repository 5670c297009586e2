import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {needsPositions, parseYamlFileFast} from '../../src/core/project/fast-source.js'
import {loadProject} from '../../src/core/project/load.js'
import {parseYamlFile} from '../../src/core/project/source.js'
import {type ValidationResult, validateDirectory, validateWithoutPositions} from '../../src/core/validate/validate.js'
import {ROOT, fixture} from '../helpers/cli.js'
import {BASE, CATEGORIES, type Files, type Mutant, Rng, SEED, SPECIAL, caseSeed} from '../helpers/mutants.js'

/*
 * `validateDirectory` first reads a project without source positions (js-yaml), and redoes the
 * run with them (yaml) on the first finding or anything unusual. Whatever the input, the result
 * must be the one the precise path alone gives: same findings, lines, columns and counts.
 */

const FIXTURES = readdirSync(fixture('validate')).sort()
const VALID = [...FIXTURES.filter((f) => f.startsWith('valid-')).map((f) => fixture('validate', f)), path.join(ROOT, 'examples/orders')]
/** Cases per fuzz category here (the fuzz test runs more, on one path). */
const CASES = 12

let scratch = ''
let counter = 0

function writeProject(files: Files): string {
  const dir = path.join(scratch, `case-${++counter}`)
  mkdirSync(dir, {recursive: true})
  for (const [file, text] of files) {
    mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
    writeFileSync(path.join(dir, file), text)
  }
  return dir
}

async function assertSameResult(dir: string, label: string): Promise<void> {
  const precise = await validateDirectory(dir, {precise: true})
  const fast = await validateDirectory(dir)
  assert.deepEqual(stable(fast), stable(precise), `${label}: the fast path's result differs from the precise path's`)
}

const STACK_OVERFLOW = /Maximum call stack size exceeded/

/**
 * Where yaml runs out of stack (nesting thousands deep) depends on the stack V8 has left, which
 * differs between two runs of the precise path itself: such findings are compared by file only.
 */
function stable(result: ValidationResult): unknown {
  if (!result.findings.some((f) => STACK_OVERFLOW.test(f.message))) return result
  const overflowed = [...new Set(result.findings.filter((f) => STACK_OVERFLOW.test(f.message)).map((f) => f.file))]
  const findings = result.findings.filter((f) => !STACK_OVERFLOW.test(f.message))
  return {...result, findings, errors: undefined, overflowed}
}

/** For each file the fast reading accepts: the precise reading has no finding and the same data. */
function assertSameReading(files: Files, label: string): void {
  for (const [file, content] of files) {
    if (!/\.ya?ml$/.test(file)) continue
    const text = content.toString()
    let fast
    try {
      fast = parseYamlFileFast(file, text)
    } catch {
      continue // refused: the precise path reads it
    }
    const precise = parseYamlFile(file, text)
    const context = `${label}: ${file} read without positions, but`
    assert.deepEqual(precise.findings, [], `${context} the precise reading has findings`)
    assert.equal(precise.broken.length, 0, `${context} the precise reading has broken documents`)
    assert.deepEqual(
      fast.documents.map((d) => d.object),
      precise.documents.map((d) => d.object),
      `${context} the data differ`,
    )
  }
}

describe('validate: the fast path (positions only when a finding needs them)', () => {
  before(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-fast-path-'))
  })
  after(() => {
    rmSync(scratch, {recursive: true, force: true})
  })

  describe('fixtures', () => {
    for (const name of [...FIXTURES.map((f) => `test/fixtures/validate/${f}`), 'examples/orders']) {
      it(`gives ${name} the result of the precise path`, async () => {
        await assertSameResult(path.join(ROOT, name), name)
      })
    }

    it('gives --against comparisons the result of the precise path', async () => {
      for (const [now, before] of [['valid-compatible-minor', 'valid-minimal'], ['breaking-field-removed-forward', 'valid-minimal'], ['valid-minimal', 'breaking-minor-bump']]) {
        const against = await loadProject(fixture('validate', before))
        const precise = await validateDirectory(fixture('validate', now), {against, precise: true})
        assert.deepEqual(await validateDirectory(fixture('validate', now), {against}), precise, `${now} against ${before}`)
      }
    })

    it('validates the valid fixtures and examples/orders without reading positions at all', async () => {
      for (const dir of VALID) {
        const result = await validateWithoutPositions(dir)
        assert.ok(result, `${path.relative(ROOT, dir)} fell back to the precise path`)
        assert.equal(result.valid, true)
      }
    })

    it('abandons the fast path on the first finding', async () => {
      for (const name of FIXTURES.filter((f) => !f.startsWith('valid-'))) {
        assert.equal(await validateWithoutPositions(fixture('validate', name)), undefined, name)
      }
    })
  })

  describe('what the fast reading refuses', () => {
    const refused: Array<[string, string]> = [
      ['a tag', 'a: !!str 1\n'],
      ['a local tag', 'a: !thing x\n'],
      ['an anchor and an alias', 'a: &x 1\nb: *x\n'],
      ['a merge key', 'a: {b: 1}\n<<: {c: 2}\n'],
      ['a directive', '%YAML 1.2\n---\na: 1\n'],
      ['an explicit key', '? a\n: 1\n'],
      ['a null key', 'a:\n  ~: 1\n'],
      ['a null key in a flow mapping', 'a: {null}\n'],
      ['an empty key', 'a: {: 1}\n'],
      ['a collection as a key', '[a, b]: 1\n'],
      ['a flow collection over two lines', 'a: [1,\n  2]\n'],
      ['a flow end at the parent\'s indentation (yaml warns)', 'a: [\n  1\n]\n'],
      ['a quoted string over two lines', 'a: "one\n  two"\n'],
      ['a comment glued to a quoted string', 'a: "x"#c\n'],
      ['text glued to a flow collection', 'a: [x]#c\n'],
      ['an empty sequence entry', 'a:\n  - b:\n      - x\n      -\n  - y\n'],
      ['a tab', 'a:\t1\n'],
      ['a lone carriage return', 'a: 1\rb: 2\n'],
      ['a byte order mark inside', 'a: 1\n\uFEFFb: 2\n'],
      ['a document end marker', 'a: 1\n...\n'],
      ['__proto__', '__proto__: 1\n'],
      ['a line longer than an implicit key may be', `${'k'.repeat(1100)}: 1\n`],
    ]
    for (const [what, text] of refused) {
      it(`refuses ${what}`, () => {
        assert.ok(needsPositions(text), JSON.stringify(text))
      })
    }

    it('accepts what a valid project usually holds: quoted cron schedules, SQL, flow collections, comments', () => {
      const text = [
        '# a comment',
        'apiVersion: dappmesh.io/v1alpha1',
        'kind: DataWorkflow',
        'metadata: {name: orders}',
        'spec:',
        '  schedule: "*/15 * * * *"  # every quarter hour',
        "  note: 'it''s fine'",
        '  sql: SELECT count(*) AS total, sum(amount) FROM clean WHERE a >= 0',
        '  from: []',
        '  activities:',
        '    - {name: daily, transition: daily, dependsOn: [clean], timeout: 30m}',
        '---',
        'a: 1',
        '',
      ].join('\n')
      assert.equal(needsPositions(text), undefined)
      assert.deepEqual(parseYamlFileFast('f.yaml', text).documents.map((d) => d.object), parseYamlFile('f.yaml', text).documents.map((d) => d.object))
    })

    it('resolves plain scalars as yaml\'s core schema does', () => {
      const values = ['~', 'null', 'Null', 'NULL', 'true', 'True', 'FALSE', 'yes', 'on', '0o17', '017', '0x1F', '0X1F', '-0x1', '+12', '1_000', '0b11', '1e3', '1E-3', '.5', '-.5', '1.', '+.inf', '-.Inf', '.NaN', '.nan', 'NaN', '2001-12-14', '1:30', '12345678901234567890']
      const text = values.map((v, i) => `k${i}: ${v}\n`).join('')
      assert.deepEqual(parseYamlFileFast('f.yaml', text).documents[0].object, parseYamlFile('f.yaml', text).documents[0].object)
    })
  })

  describe(`mutated copies of examples/orders (DAPPMESH_FUZZ_SEED=${SEED})`, function () {
    this.timeout(180_000)

    for (const [name, {mutator}] of Object.entries(CATEGORIES)) {
      it(`gives the precise path's result: ${CASES} cases of ${name}`, async () => {
        for (let i = 0; i < CASES; i++) {
          const mutant = mutator(new Rng(caseSeed(name, i)))
          const label = `${name} #${i}: ${mutant.description}`
          assertSameReading(mutant.files, label)
          const dir = writeProject(mutant.files)
          await assertSameResult(dir, label)
          rmSync(dir, {recursive: true, force: true})
        }
      })
    }

    it(`gives the precise path's result for ${SPECIAL.length} pathological inputs (aliases, tags, merge keys, deep nesting, bytes that are not UTF-8, ...)`, async () => {
      for (const mutant of SPECIAL as Mutant[]) {
        assertSameReading(mutant.files, mutant.description)
        const dir = writeProject(mutant.files)
        await assertSameResult(dir, mutant.description)
        rmSync(dir, {recursive: true, force: true})
      }
    })

    it('reads every file of the unmutated example the way the precise reading does', () => {
      assertSameReading(BASE, 'examples/orders')
    })
  })
})
