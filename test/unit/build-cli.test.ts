import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, unlinkSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {STACK_TRACE, cli, flat} from '../helpers/cli.js'
import {giveImage} from '../helpers/entity-image.js'

/** dappmesh build's refusals, which come before any builder runs (no tools needed). */
describe('dappmesh build: bad input', () => {
  let tmp: string
  let dir: string
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-build-cli-'))
    dir = path.join(tmp, 'shop')
    const r = cli(['init', dir, '--name', 'shop', '--domain', 'sales', '--owner', 'team@example.com', '--entity', 'orders', '--entity', 'customers', '--yes'])
    assert.equal(r.code, 0, r.stderr)
    for (const entity of ['orders', 'customers']) giveImage(dir, entity)
  })
  after(() => rmSync(tmp, {recursive: true, force: true}))

  it('no builder on PATH: exit 1 with how to get one', () => {
    const r = cli(['build', dir], {env: {PATH: tmp}})
    assert.equal(r.code, 1, r.stderr)
    assert.match(flat(r.stderr), /no image builder found: dappmesh build needs docker \(with a running engine\), buildah or podman/)
    assert.match(flat(r.stderr), /apt-get install buildah/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('--push without a registry (none given, none in dappmesh.yaml): usage error, exit 2', () => {
    const r = cli(['build', dir, '--push'], {env: {PATH: tmp}})
    assert.equal(r.code, 2, r.stderr)
    assert.match(flat(r.stderr), /--push needs a registry: pass --registry or set spec\.registry in dappmesh\.yaml/)
  })

  it('a tag that is not a tag: usage error, exit 2', () => {
    const r = cli(['build', dir, '--tag', 'has/slash'], {env: {PATH: tmp}})
    assert.equal(r.code, 2, r.stderr)
    assert.match(flat(r.stderr), /--tag has\/slash: not a valid image tag/)
  })

  it('outside a project: usage error naming dappmesh.yaml', () => {
    const r = cli(['build', tmp])
    assert.equal(r.code, 2, r.stderr)
    assert.match(flat(r.stderr), /not inside a dappmesh project: no dappmesh\.yaml/)
    assert.match(flat(r.stderr), /pass its directory: dappmesh build DIR/)
  })

  it('a missing Containerfile for an entity whose port has a service without an image: exit 1 naming the entity and port', () => {
    unlinkSync(path.join(dir, 'services/customers/Containerfile'))
    const r = cli(['build', dir, '--json'], {env: {PATH: tmp}})
    assert.equal(r.code, 1, r.stderr)
    const {error} = JSON.parse(r.stdout)
    assert.match(error.message, /no Containerfile for entity customers \(output port customers-table\): a port with a service needs an image/)
    assert.ok(error.suggestions.some((s: string) => s.includes('services/customers/Containerfile')))
    const text = cli(['build', path.join(dir, 'model')], {env: {PATH: tmp}})
    assert.equal(text.code, 1)
    assert.match(flat(text.stderr), /no Containerfile for entity customers/)
    assert.doesNotMatch(text.stderr, STACK_TRACE)
  })
})
