import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {RULES} from '../../src/core/validate/finding.js'
import {type ValidationResult, validateDirectory} from '../../src/core/validate/validate.js'
import {STACK_TRACE, cli} from '../helpers/cli.js'
import {MAX_FLOW_DEPTH, MAX_INDENT, tooDeep} from '../../src/core/project/source.js'
import {BASE, CATEGORIES, type Files, type Mutant, Rng, SEED, SPECIAL, caseSeed, lines} from '../helpers/mutants.js'

/*
 * Fuzzing of the loader and the validator with projects derived from examples/orders. Every case
 * is drawn from a seeded PRNG, so a failure names its seed, case and mutation and reproduces with
 * DAPPMESH_FUZZ_SEED=<seed>. Properties: validation never throws; a mutation known to break the
 * project is never reported valid; every finding has a file of the project, a line and column
 * (1-based, inside the file), a documented rule and a message. Through the built CLI: exit 0 or 1
 * (1 when known invalid), and never a stack trace or an internal error.
 */

/** The brief's own definition of a stack trace in user-facing output. */
const STACK_LINE = /\n\s+at .+\(.*:\d+:\d+\)/
/** A case that takes longer than this is a hang (alias bombs, pathological nesting). */
const CASE_LIMIT_MS = 10_000

// --- running a case -----------------------------------------------------------------------------

let scratch = ''
let counter = 0
/** Set when a case fails: the projects are then kept on disk (the failure names the path). */
let keep = false

function writeProject(files: Files): string {
  const dir = path.join(scratch, `case-${++counter}`)
  for (const [file, text] of files) {
    mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
    writeFileSync(path.join(dir, file), text)
  }
  mkdirSync(dir, {recursive: true})
  return dir
}

/** What is wrong with a result, or undefined when every property holds. */
function problemWith(result: ValidationResult, mutant: Mutant): string | undefined {
  if (mutant.invalid && result.valid) return 'reported valid, but the mutation is known to make the project invalid'
  const errors = result.findings.filter((f) => f.severity === 'error').length
  if (result.valid !== (errors === 0)) return `valid is ${result.valid} with ${errors} error finding(s)`
  for (const f of result.findings) {
    const where = JSON.stringify(f)
    if (typeof f.file !== 'string' || !mutant.files.has(f.file)) return `finding names a file that is not in the project: ${where}`
    if (!Number.isInteger(f.line) || f.line < 1) return `finding has no line ≥ 1: ${where}`
    if (!Number.isInteger(f.column) || f.column < 1) return `finding has no column ≥ 1: ${where}`
    if (f.line > lines(mutant.files.get(f.file)!).length) return `finding's line is past the end of ${f.file}: ${where}`
    if (!(RULES as readonly string[]).includes(f.rule)) return `finding has an undocumented rule: ${where}`
    if (f.severity !== 'error' && f.severity !== 'warning') return `finding has severity ${f.severity}: ${where}`
    if (typeof f.message !== 'string' || f.message.trim() === '') return `finding has no message: ${where}`
  }
  return undefined
}

async function check(label: string, mutant: Mutant): Promise<void> {
  const dir = writeProject(mutant.files)
  const started = Date.now()
  let problem: string | undefined
  try {
    problem = problemWith(await validateDirectory(dir), mutant)
  } catch (error) {
    problem = `validateDirectory threw: ${(error as Error).stack ?? String(error)}`
  }
  const ms = Date.now() - started
  if (!problem && ms > CASE_LIMIT_MS) problem = `took ${ms} ms (limit ${CASE_LIMIT_MS})`
  // A failing case's project stays on disk for a look.
  keep ||= Boolean(problem)
  if (problem) assert.fail(`${label} (DAPPMESH_FUZZ_SEED=${SEED}): ${mutant.description}\n${problem}\nproject kept at ${dir}`)
  rmSync(dir, {recursive: true, force: true})
}

describe('fuzz', () => {
  before(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-fuzz-'))
  })
  after(() => {
    if (!keep) rmSync(scratch, {recursive: true, force: true})
  })

  describe('loader and validator on mutated copies of examples/orders', function () {
    this.timeout(120_000)

    it('the unmutated example is valid (the baseline every mutation starts from)', async () => {
      const result = await validateDirectory(writeProject(BASE))
      assert.equal(result.valid, true, JSON.stringify(result.findings, null, 2))
    })

    for (const [name, {mutator, cases}] of Object.entries(CATEGORIES)) {
      it(`never throws, flags known-invalid projects, and locates every finding: ${cases} cases of ${name}`, async () => {
        for (let i = 0; i < cases; i++) await check(`${name} #${i} (case seed ${caseSeed(name, i)})`, mutator(new Rng(caseSeed(name, i))))
      })
    }

    for (const mutant of SPECIAL) {
      it(`handles ${mutant.description} without throwing or hanging${mutant.invalid ? ', and reports it invalid' : ''}`, async () => {
        await check('special case', mutant)
      })
    }

    it('reports an alias bomb as a yaml finding at the first alias, keeping the resource defined (regression)', async () => {
      const dir = writeProject(SPECIAL[0].files)
      const result = await validateDirectory(dir)
      const bomb = result.findings.filter((f) => f.file === 'storage/analytics.yaml')
      assert.equal(bomb.length, 1, JSON.stringify(result.findings))
      assert.equal(bomb[0].rule, 'yaml')
      assert.match(bomb[0].message, /aliases expand to too much data .*billion laughs/)
      assert.deepEqual([bomb[0].line, bomb[0].column], [9, 10])
      // The broken DataStorage still counts as defined: no `ref` findings cascade from it.
      assert.deepEqual(result.findings.filter((f) => f.rule === 'ref'), [])
      rmSync(dir, {recursive: true, force: true})
    })

    it('reports an alias with no anchor as a yaml finding at that alias (regression)', async () => {
      const dir = writeProject(SPECIAL.find((m) => m.description === 'an alias with no anchor')!.files)
      const result = await validateDirectory(dir)
      assert.deepEqual(
        result.findings.map((f) => [f.file, f.line, f.column, f.rule, f.message]),
        [['storage/analytics.yaml', 8, 9, 'yaml', 'invalid YAML: Unresolved alias (the anchor must be set before the alias): nowhere']],
      )
      rmSync(dir, {recursive: true, force: true})
    })
    for (const [what, value] of [
      ['a flow sequence', `${'['.repeat(5000)}${']'.repeat(5000)}`],
      ['a block mapping', `\n${Array.from({length: 3000}, (_, i) => `${'  '.repeat(i + 2)}a:`).join('\n')}`],
    ]) {
      it(`says in words that ${what} nested thousands deep cannot be read (regression: "Maximum call stack")`, async () => {
        const dir = writeProject(new Map([['dappmesh.yaml', `apiVersion: dappmesh.io/v1alpha1\nkind: DataProduct\nmetadata:\n  name: p\nspec:\n  domain: d\n  owner: o\n  version: 1.0.0\n  description: ${value}\n`]]))
        const result = await validateDirectory(dir)
        assert.equal(result.valid, false)
        // How deep the stack runs out varies with what ran before (one finding or two: the parse
        // and the conversion); every finding must say it in words.
        assert.ok(result.findings.length > 0)
        for (const f of result.findings) {
          assert.deepEqual([f.file, f.rule], ['dappmesh.yaml', 'yaml'])
          assert.match(f.message, /nested too deeply to read .* flatten this value/)
        }
        rmSync(dir, {recursive: true, force: true})
      })
    }
  })

  describe('how deep a file may nest (tooDeep)', () => {
    it('allows 256 open flow collections and refuses the 257th, at its position', () => {
      assert.equal(tooDeep(`a: ${'['.repeat(MAX_FLOW_DEPTH)}${']'.repeat(MAX_FLOW_DEPTH)}`), undefined)
      assert.equal(tooDeep(`a: ${'['.repeat(MAX_FLOW_DEPTH + 1)}`)?.offset, 3 + MAX_FLOW_DEPTH)
    })
    it('does not count brackets in quoted strings or comments, nor closed ones', () => {
      const many = '['.repeat(MAX_FLOW_DEPTH + 10)
      assert.equal(tooDeep(`a: "${many}"\nb: '${many}'\n# ${many}\nc: [x]\n`), undefined)
      assert.equal(tooDeep(Array.from({length: 1000}, () => 'd: [[1], {e: [2]}]').join('\n')), undefined)
    })
    it('refuses a line indented more than 1000 columns', () => {
      assert.equal(tooDeep(`a:\n${' '.repeat(MAX_INDENT)}b: 1\n`), undefined)
      assert.match(tooDeep(`a:\n${' '.repeat(MAX_INDENT + 1)}b: 1\n`)?.message ?? '', /indented 1001 columns/)
    })
  })

  describe('the built CLI on mutated projects', function () {
    this.timeout(180_000)
    const CLI_CASES = 30

    it(`exits 0 or 1 (1 when known invalid), with no stack trace, for ${CLI_CASES} mutated projects`, () => {
      const rng = new Rng(caseSeed('cli', 0))
      const mutators = Object.values(CATEGORIES).map((c) => c.mutator)
      const mutants = [SPECIAL[0], SPECIAL[6], ...Array.from({length: CLI_CASES - 2}, () => rng.pick(mutators)(rng))]
      for (const [i, mutant] of mutants.entries()) {
        const dir = writeProject(mutant.files)
        const json = i % 2 === 1
        const r = cli(['validate', dir, ...(json ? ['--json'] : [])])
        keep = true // until this case has passed
        const context = `CLI case ${i} (DAPPMESH_FUZZ_SEED=${SEED}): ${mutant.description}\nexit ${r.code}\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 1500)}\nproject kept at ${dir}`
        assert.ok(r.code === 0 || r.code === 1, context)
        if (mutant.invalid) assert.equal(r.code, 1, context)
        for (const output of [r.stdout, r.stderr]) {
          assert.doesNotMatch(output, STACK_LINE, context)
          assert.doesNotMatch(output, STACK_TRACE, context)
          assert.doesNotMatch(output, /internal error|This is a bug in dappmesh/, context)
        }
        if (json) assert.equal(JSON.parse(r.stdout).valid, r.code === 0, context)
        keep = false
        rmSync(dir, {recursive: true, force: true})
      }
    })
  })
})
