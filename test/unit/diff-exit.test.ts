import assert from 'node:assert/strict'

import {cli, fixture} from '../helpers/cli.js'

/** kubectl diff's convention: 1 means "there are changes", so every failure exits above 1. */
describe('dappmesh diff exit codes (no cluster needed)', () => {
  it('exits 2, not 1, for an invalid project, before contacting any cluster', () => {
    const r = cli(['diff', fixture('validate', 'ref-domain'), '--kubeconfig', '/nonexistent/kubeconfig'])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /not valid/)
  })

  it('with --json reports that failure as a JSON error with exit 2', () => {
    const r = cli(['diff', fixture('validate', 'ref-domain'), '--json'])
    assert.equal(r.code, 2)
    assert.equal(JSON.parse(r.stdout).error.exit, 2)
  })

  it('exits 2 for a usage error', () => {
    assert.equal(cli(['diff', '--no-such-flag']).code, 2)
  })
})
