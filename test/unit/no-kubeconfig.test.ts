import assert from 'node:assert/strict'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {STACK_TRACE, cli} from '../helpers/cli.js'

describe('cluster commands with no kubeconfig at all', () => {
  let home: string

  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'dappmesh-nohome-'))
  })

  after(async () => {
    await rm(home, {recursive: true, force: true})
  })

  for (const args of [['apply', 'examples/orders'], ['status', 'orders'], ['diff', 'examples/orders'], ['delete', 'examples/orders']]) {
    it(`${args[0]} exits 3 and says to create a cluster or pass --kubeconfig`, () => {
      // No $KUBECONFIG, an empty home (no ~/.kube/config), not in a pod.
      const result = cli(args, {env: {HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: ''}})
      assert.equal(result.code, 3, result.stderr)
      assert.match(result.stderr, /no kubeconfig: run `dappmesh cluster create` or pass --kubeconfig/)
      assert.doesNotMatch(result.stderr, /bug in dappmesh/)
      assert.doesNotMatch(result.stderr, STACK_TRACE)
    })
  }

  it('still names a missing file given with --kubeconfig', () => {
    const result = cli(['status', 'orders', '--kubeconfig', path.join(home, 'missing')], {env: {HOME: home, KUBECONFIG: ''}})
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, /the kubeconfig \S+missing does not exist/)
  })
})
