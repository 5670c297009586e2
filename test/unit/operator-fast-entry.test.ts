import assert from 'node:assert/strict'

import {Parser} from '@oclif/core'

import OperatorRun from '../../src/commands/operator/run.js'
import {FAST_OPTIONS, parseFastOperatorRun} from '../../src/core/reconcile/fast-entry.js'

/** What oclif makes of `operator run ARGV`, with the command's own flag definitions. */
async function oclifParse(argv: string[]) {
  const {flags} = await Parser.parse(argv, {flags: OperatorRun.flags, strict: true})
  return flags
}

describe('operator run without oclif (bin/run.js fast entry)', () => {
  it('knows every flag of the command, with its short name, and no other', () => {
    const command = Object.entries(OperatorRun.flags).map(([name, flag]) => `${name}${flag.char ? ` -${flag.char}` : ''}${flag.type === 'boolean' && flag.allowNo ? ' (no-)' : ''}`)
    const fast = Object.entries(FAST_OPTIONS)
      .filter(([name]) => !name.startsWith('no-'))
      .map(([name, option]) => `${name}${option.short ? ` -${option.short}` : ''}${FAST_OPTIONS[`no-${name}`] ? ' (no-)' : ''}`)
    assert.deepEqual(fast.sort(), command.sort())
  })

  const same: string[][] = [
    [],
    ['--kubeconfig', 'k', '--context', 'c'],
    ['-n', 'a', '-n', 'b,c', '-l', 'team=sales'],
    ['--namespace=a', '--selector', 'tier in (gold)'],
    ['--only', 'product', '--health-port', '0', '--metrics-port', '9090', '--bind-address', '0.0.0.0'],
    ['--concurrency', '8', '--leader-elect', '--leader-election-namespace', 'ops'],
    ['--runtime-image', 'reg/dappmesh:1', '--kube-qps', '50', '--kube-burst', '100'],
    ['--no-install-crds'],
    ['--install-crds'],
  ]
  for (const argv of same) {
    it(`parses ${JSON.stringify(argv.join(' '))} as oclif does`, async () => {
      const fast = parseFastOperatorRun(argv, {})
      assert.ok(fast, 'answered')
      const expected = Object.fromEntries(Object.entries(await oclifParse(argv)).filter(([name]) => name !== 'json'))
      const actual = Object.fromEntries(Object.entries(fast).filter(([, value]) => value !== undefined))
      assert.deepEqual(actual, expected)
    })
  }

  const left: string[][] = [
    ['--help'],
    ['-h'],
    ['--json'],
    ['--concurrency', '0'],
    ['--concurrency', '65'],
    ['--health-port', 'x'],
    ['--health-port', '70000'],
    ['--kube-qps', '0'],
    ['--only', 'a', '--only', 'b'],
    ['--install-crds', '--no-install-crds'],
    ['--unknown'],
    ['stray'],
    ['--kubeconfig'],
  ]
  for (const argv of left) {
    it(`leaves ${JSON.stringify(argv.join(' '))} to oclif`, () => assert.equal(parseFastOperatorRun(argv, {}), undefined))
  }

  it('takes the runtime image from $DAPPMESH_RUNTIME_IMAGE, as the flag does', () => {
    assert.equal(parseFastOperatorRun([], {DAPPMESH_RUNTIME_IMAGE: 'r/d:2'})?.['runtime-image'], 'r/d:2')
    assert.equal(parseFastOperatorRun(['--runtime-image', 'x'], {DAPPMESH_RUNTIME_IMAGE: 'r/d:2'})?.['runtime-image'], 'x')
  })
})
