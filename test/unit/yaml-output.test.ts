import assert from 'node:assert/strict'

import {cli} from '../helpers/cli.js'

// YAML that other tools read (kubectl apply -f, GitOps) is written out in full: an object used
// twice must not become an anchor and an alias, which the yaml library makes by default.
describe('YAML output has no anchors or aliases', () => {
  const ANCHOR_OR_ALIAS = /(?:^|[\s:-])[&*][\w-]+\s*$/m
  for (const args of [['render', 'examples/orders'], ['crds'], ['operator', 'install', '--dry-run']]) {
    it(`dappmesh ${args.join(' ')}`, () => {
      const r = cli(args)
      assert.equal(r.code, 0, r.stderr)
      assert.ok(r.stdout.length > 100)
      const m = ANCHOR_OR_ALIAS.exec(r.stdout)
      assert.equal(m, null, `found ${JSON.stringify(m?.[0])}`)
    })
  }
})
