import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'

import {parseFastInvocation} from '../../src/core/validate/fast-entry.js'
import {cli, fixture, flat} from '../helpers/cli.js'

describe('validate without oclif (bin/run.js fast entry)', () => {
  describe('which invocations it answers', () => {
    const answered: Array<[string[], {dir: string; output: string; json: boolean}]> = [
      [['validate'], {dir: '.', output: 'text', json: false}],
      [['validate', 'some/dir'], {dir: 'some/dir', output: 'text', json: false}],
      [['validate', '--json'], {dir: '.', output: 'text', json: true}],
      [['validate', 'd', '-o', 'junit'], {dir: 'd', output: 'junit', json: false}],
      [['validate', '-osarif', 'd'], {dir: 'd', output: 'sarif', json: false}],
      [['validate', '-o=json', 'd'], {dir: 'd', output: 'json', json: false}],
      [['validate', '--output=text', '--json', 'd'], {dir: 'd', output: 'text', json: true}],
      [['validate', '--output', 'json'], {dir: '.', output: 'json', json: false}],
    ]
    for (const [argv, expected] of answered) {
      it(`answers ${argv.join(' ')}`, () => assert.deepEqual(parseFastInvocation(argv), expected))
    }
    const left: string[][] = [
      ['lineage', 'd'],
      ['validate', '--help'],
      ['validate', '-h'],
      ['validate', '--against', 'main'],
      ['validate', 'a', 'b'],
      ['validate', '-o'],
      ['validate', '-o', 'xml'],
      ['validate', '-o', 'json', '-o', 'text'],
      ['validate', '--json', '--json'],
      ['validate', '--', 'd'],
      ['validate', '--jsn'],
      ['validate', ''],
    ]
    for (const argv of left) {
      it(`leaves ${JSON.stringify(argv.join(' '))} to oclif`, () => assert.equal(parseFastInvocation(argv), undefined))
    }
  })

  describe('answers exactly as the oclif command does', function () {
    this.timeout(120_000)
    const oclif = {DAPPMESH_FAST_ENTRY: '0'}
    const projects = ['valid-minimal', 'valid-multi-document', 'schema-wrong-type', 'ref-state', 'yaml-syntax', 'governance-pii', 'cycle-flow']
    for (const name of projects) {
      it(`${name}: same stdout, stderr and exit code in every format`, () => {
        for (const format of [[], ['--json'], ['-o', 'json'], ['-o', 'junit'], ['-o', 'sarif'], ['-o', 'text', '--json'], ['-ojson'], ['-o=junit'], ['--output=sarif']]) {
          const args = ['validate', fixture('validate', name), ...format]
          const fast = cli(args)
          const slow = cli(args, {env: oclif})
          assert.equal(fast.code, slow.code, `${args.join(' ')}: exit code`)
          assert.equal(fast.stdout, slow.stdout, `${args.join(' ')}: stdout`)
          assert.equal(fast.stderr, slow.stderr, `${args.join(' ')}: stderr`)
        }
      })
    }

    it('leaves a missing directory to the command, which says so with exit 2', () => {
      const r = cli(['validate', fixture('validate', 'no-such-project')])
      assert.equal(r.code, 2)
      assert.match(flat(r.stderr), /no such directory/)
      assert.deepEqual(r, cli(['validate', fixture('validate', 'no-such-project')], {env: oclif}))
    })

    it('samples fixtures that exist', () => {
      // The list above samples each family of findings; keep it honest if fixtures are renamed.
      const all = new Set(readdirSync(fixture('validate')))
      for (const name of projects) assert.ok(all.has(name), name)
    })
  })
})
