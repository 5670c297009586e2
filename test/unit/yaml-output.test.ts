import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {load as yamlLoad} from 'js-yaml'
import {parse} from 'yaml'

import {toYaml} from '../../src/core/render/yaml.js'
import {cli, fixture} from '../helpers/cli.js'

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

describe('YAML output quotes every string a YAML 1.1 or 1.2 reader would retype', () => {
  // What kubectl's YAML 1.1 reader turns into booleans, nulls, numbers or dates when left plain.
  const RETYPED = ['on', 'off', 'On', 'OFF', 'y', 'Y', 'n', 'N', 'yes', 'Yes', 'no', 'NO', 'true', 'False', 'null', 'Null', '~', '', '0755', '0o17', '0x1F', '0b101', '+12', '-3', '1_000', '1:20', '12.0', '1e3', '.5', '.inf', '-.Inf', '.NaN', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '=', '<<']

  for (const value of RETYPED) {
    it(`keeps ${JSON.stringify(value)} a string for YAML 1.1 and 1.2 readers`, () => {
      const text = toYaml({metadata: {labels: {v: value}}, [value]: 'key'})
      for (const version of ['1.1', '1.2'] as const) {
        const back = parse(text, {version}) as any
        assert.equal(back.metadata.labels.v, value, `${version} reader: ${text}`)
        assert.equal(back[value], 'key', `${version} reader, as a key: ${text}`)
      }
      assert.equal((yamlLoad(text) as any).metadata.labels.v, value, `js-yaml reader: ${text}`)
    })
  }

  it('leaves ordinary strings, numbers and booleans plain', () => {
    assert.equal(toYaml({name: 'orders', replicas: 2, ready: true, nothing: null}), 'name: orders\nreplicas: 2\nready: true\nnothing: null\n')
  })

  it('dappmesh render quotes them in a real project (description "on", label "no")', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-yaml11-'))
    try {
      cpSync(fixture('validate', 'valid-minimal'), dir, {recursive: true})
      const file = path.join(dir, 'dappmesh.yaml')
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^spec:\n/m, "spec:\n  description: 'on'\n").replace(/^metadata:\n/m, "metadata:\n  labels:\n    legacy: 'no'\n"))
      const r = cli(['render', dir])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /description: "on"/)
      const product = (parse(r.stdout.split('---\n').find((d) => d.includes('kind: DataProduct'))!, {version: '1.1'}) as any)
      assert.equal(product.spec.description, 'on')
      assert.equal(product.metadata.labels.legacy, 'no')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('-o json and --json print the same document', () => {
  for (const args of [['render', fixture('validate', 'valid-minimal')], ['crds'], ['lineage', fixture('validate', 'valid-minimal')], ['validate', fixture('validate', 'valid-minimal')], ['validate', fixture('validate', 'naming')]]) {
    it(`dappmesh ${args[0]}`, () => {
      const a = cli([...args, '-o', 'json'])
      const b = cli([...args, '--json'])
      assert.equal(a.code, b.code, a.stderr + b.stderr)
      assert.deepEqual(JSON.parse(b.stdout), JSON.parse(a.stdout))
    })
  }
})
