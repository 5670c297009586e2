import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {readPlainYaml} from '../../src/core/project/plain-yaml.js'
import {parseYamlFile} from '../../src/core/project/source.js'
import {ROOT} from '../helpers/cli.js'
import {CATEGORIES, Rng, SEED, caseSeed} from '../helpers/mutants.js'

/*
 * plain-yaml.ts reads the plain YAML of most project files in one pass, and must answer only when
 * its reading is the precise one's (yaml, with positions) and that reading has no finding. The
 * property, checked on every YAML file of the repository and on many mutations of them: whenever
 * readPlainYaml answers, parseYamlFile finds nothing wrong and reads the same documents.
 */

/** What is wrong with readPlainYaml's answer for `text`, or undefined (also when it refuses). */
function disagreement(text: string): string | undefined {
  const plain = readPlainYaml(text)
  if (plain === undefined) return undefined
  const precise = parseYamlFile('f.yaml', text)
  if (precise.findings.length > 0 || precise.broken.length > 0) return `answered, but the precise reading finds: ${JSON.stringify(precise.findings.map((f) => f.message))}`
  try {
    assert.deepEqual(
      plain.filter((d) => d !== null),
      precise.documents.map((d) => d.object),
    )
  } catch (error) {
    return `answered differently: ${(error as Error).message}`
  }
  return undefined
}

function assertAgrees(text: string, label: string): void {
  const problem = disagreement(text)
  if (problem) assert.fail(`${label} (DAPPMESH_FUZZ_SEED=${SEED}): ${problem}\n--- text ---\n${text}`)
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === '.git' || name === 'dist') continue
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) yamlFiles(full, out)
    else if (/\.ya?ml$/.test(name)) out.push(full)
  }
  return out
}

const REPOSITORY_FILES = ['examples', 'templates', 'test/fixtures', 'cluster'].flatMap((d) => yamlFiles(path.join(ROOT, d)))

describe('reading plain YAML in one pass (plain-yaml.ts)', () => {
  describe('what it reads', () => {
    const read: Array<[string, string, unknown[]]> = [
      ['mappings and sequences', 'a: 1\nb:\n  c: x\n  d:\n    - 1\n    - two\n', [{a: 1, b: {c: 'x', d: [1, 'two']}}]],
      ['a sequence at its key\'s indentation', 'a:\n- 1\n- 2\nb: 3\n', [{a: [1, 2], b: 3}]],
      ['mappings inside sequence entries', 'a:\n  - name: x\n    type: string\n  - name: y\n', [{a: [{name: 'x', type: 'string'}, {name: 'y'}]}]],
      ['flow collections', 'a: {name: id, tags: [x, "y z", \'w\'], n: {}}\nb: []\n', [{a: {name: 'id', tags: ['x', 'y z', 'w'], n: {}}, b: []}]],
      ['quoted strings and escapes', 'a: "x\\ty \\"q\\" \\u00e9"\nb: \'it\'\'s\'\nc: "*/15 * * * *"\n', [{a: 'x\ty "q" é', b: "it's", c: '*/15 * * * *'}]],
      ['literal block scalars, kept and stripped', 'a: |\n  SELECT 1\n\n  FROM t\n\nb: |-\n  x\n  y\nc: 1\n', [{a: 'SELECT 1\n\nFROM t\n', b: 'x\ny', c: 1}]],
      ['comments everywhere', '# head\na: 1 # one\n  # indented\nb: x#y\n', [{a: 1, b: 'x#y'}]],
      ['core schema scalars', 'a: ~\nb: true\nc: 0x1F\nd: 1.5e3\ne: .inf\nf: 1.0.0\ng: yes\nh:\n', [{a: null, b: true, c: 31, d: 1500, e: Infinity, f: '1.0.0', g: 'yes', h: null}]],
      ['several documents', '---\na: 1\n---\n---\nb: 2\n', [{a: 1}, null, {b: 2}]],
    ]
    for (const [what, text, expected] of read) {
      it(`reads ${what}`, () => {
        assert.deepEqual(readPlainYaml(text), expected)
        assertAgrees(text, what)
      })
    }
  })

  describe('what it leaves to the other readers', () => {
    const refused: Array<[string, string]> = [
      ['an anchor and an alias', 'a: &x 1\nb: *x\n'],
      ['a tag', 'a: !!str 1\n'],
      ['a folded block scalar', 'a: >\n  x\n'],
      ['a kept block scalar', 'a: |+\n  x\n'],
      ['a plain scalar over two lines', 'a: one\n  two\n'],
      ['a quoted string over two lines', 'a: "one\n  two"\n'],
      ['a flow collection over two lines', 'a: [1,\n  2]\n'],
      ['a quoted key', '"a": 1\n'],
      ['a number as a key', '1: a\n'],
      ['a duplicate key', 'a: 1\na: 2\n'],
      ['a merge key', 'a: 1\n<<: {b: 2}\n'],
      ['a tab', 'a:\t1\n'],
      ['a carriage return', 'a: 1\r\n'],
      ['an empty sequence entry', 'a:\n  -\n  - x\n'],
      ['a mapping after a value on its line', 'a: b: c\n'],
      ['a trailing comma in a flow collection', 'a: [1, 2, ]\n'],
      ['a deeper line after a value', 'a: 1\n   b: 2\n'],
      ['a key that is too long', `${'k'.repeat(1100)}: 1\n`],
      ['__proto__', '__proto__: 1\n'],
      ['a root scalar', 'hello\n'],
      ['a blank line with spaces beyond a block scalar\'s indentation', 'a: |\n  x\n     \n  y\n'],
    ]
    for (const [what, text] of refused) {
      it(`leaves ${what}`, () => assert.equal(readPlainYaml(text), undefined))
    }
  })

  it(`reads every YAML file of the repository as the precise reading does (${REPOSITORY_FILES.length} files)`, () => {
    for (const file of REPOSITORY_FILES) assertAgrees(readFileSync(file, 'utf8'), path.relative(ROOT, file))
  })

  it('reads every file of examples/orders and of the benchmark\'s generated project itself', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-plain-yaml-'))
    try {
      const {generateProject} = await import(path.join(ROOT, 'bench/lib/generate.js'))
      generateProject(dir, 200)
      const files = [...yamlFiles(path.join(ROOT, 'examples/orders')), ...yamlFiles(dir)]
      const refused = files.filter((f) => readPlainYaml(readFileSync(f, 'utf8')) === undefined)
      assert.deepEqual(refused, [])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  describe(`mutations (DAPPMESH_FUZZ_SEED=${SEED})`, function () {
    this.timeout(300_000)
    // Characters that change what YAML means, inserted, deleted or replaced anywhere.
    const SPECIAL = [...':-#"\'|>[]{},!&*?%@` \n', '  ', '\n  ', '- ', ': ', ' #', '---\n', '\\', 'null', '1', '<<']

    it('agrees wherever it answers on texts mutated one character or token at a time', () => {
      const rng = new Rng(caseSeed('plain-yaml', 0))
      const texts = REPOSITORY_FILES.map((f) => readFileSync(f, 'utf8')).filter((t) => readPlainYaml(t) !== undefined)
      let answered = 0
      for (let i = 0; i < 6000; i++) {
        const base = rng.pick(texts)
        let text = base
        for (let m = 1 + rng.int(2); m > 0; m--) {
          const at = rng.int(text.length + 1)
          const op = rng.int(3)
          const token = rng.pick(SPECIAL)
          text = op === 0 ? text.slice(0, at) + token + text.slice(at) : op === 1 ? text.slice(0, at) + text.slice(at + 1 + rng.int(3)) : text.slice(0, at) + token + text.slice(at + 1)
        }
        if (readPlainYaml(text) !== undefined) answered++
        assertAgrees(text, `mutation #${i} of a repository file`)
      }
      // Most single mutations keep a file readable; a reader that refused everything would pass vacuously.
      assert.ok(answered > 1000, `answered ${answered} of 6000`)
    })

    for (const [name, {mutator}] of Object.entries(CATEGORIES)) {
      it(`agrees wherever it answers on the fuzz corpus: ${name}`, () => {
        for (let i = 0; i < 40; i++) {
          const mutant = mutator(new Rng(caseSeed(name, i)))
          for (const [file, content] of mutant.files) {
            if (/\.ya?ml$/.test(file) && typeof content === 'string') assertAgrees(content, `${name} #${i}: ${mutant.description}: ${file}`)
          }
        }
      })
    }
  })
})
