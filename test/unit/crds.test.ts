import assert from 'node:assert/strict'

import {generateCrds} from '../../src/core/crds/generate.js'
import {KINDS} from '../../src/core/model/kinds.js'
import {cli} from '../helpers/cli.js'

/** Keys the API server refuses in a structural schema, or that have no meaning there. */
function forbidden(schema: unknown, at = ''): string[] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => forbidden(s, `${at}/${i}`))
  if (schema === null || typeof schema !== 'object') return []
  return Object.entries(schema as Record<string, unknown>).flatMap(([k, v]) => {
    const bad = ['$id', 'if', 'then', 'else', 'const'].includes(k) || (k === 'additionalProperties' && v === false) ? [`${at}/${k}`] : []
    return [...bad, ...(k === 'enum' || k === 'required' ? [] : forbidden(v, `${at}/${k}`))]
  })
}

describe('crds', () => {
  const crds = generateCrds()

  it('makes one CRD per kind, with scope, names, status subresource and printer columns', () => {
    assert.equal(crds.length, KINDS.length)
    for (const [i, info] of KINDS.entries()) {
      const crd = crds[i]
      assert.equal(crd.metadata.name, `${info.plural}.dappmesh.io`)
      assert.equal(crd.spec.scope, info.scope)
      assert.equal(crd.spec.names.kind, info.kind)
      assert.deepEqual(crd.spec.versions[0].subresources, {status: {}})
      assert.ok(crd.spec.versions[0].additionalPrinterColumns?.some((c) => c.name === 'Ready'))
      assert.match(crd.metadata.annotations['dappmesh.io/schema-hash'], /^[0-9a-f]{16}$/)
    }
  })

  it('derives each openAPIV3Schema from the kind\'s JSON Schema, in structural form', () => {
    for (const crd of crds) {
      const schema = crd.spec.versions[0].schema.openAPIV3Schema
      assert.deepEqual(forbidden(schema), [], crd.metadata.name)
    }
    const storage = crds.find((c) => c.spec.names.kind === 'DataStorage')!.spec.versions[0].schema.openAPIV3Schema.properties?.spec
    assert.deepEqual(storage?.required, ['class', 'engine'])
    assert.match(storage?.['x-kubernetes-validations']?.[0]?.rule ?? '', /self\.class == 'operational' && self\.engine in \['postgresql', 'surrealdb', 'tidb'\]/)
  })

  it('prints YAML documents by default and a List with -o json', () => {
    const yaml = cli(['crds'])
    assert.equal(yaml.code, 0)
    assert.equal((yaml.stdout.match(/^kind: CustomResourceDefinition$/gm) ?? []).length, KINDS.length)
    const json = JSON.parse(cli(['crds', '-o', 'json']).stdout)
    assert.equal(json.kind, 'List')
    assert.equal(json.items.filter((i: any) => i.kind === 'CustomResourceDefinition').length, KINDS.length)
  })

  it('prints after the CRDs the DataRole admission policy and its binding, so kubectl apply installs them too', () => {
    const json = JSON.parse(cli(['crds', '-o', 'json']).stdout)
    const kinds = json.items.map((i: any) => i.kind)
    assert.deepEqual(kinds.slice(KINDS.length), ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'])
    assert.equal(json.items.at(-1).spec.policyName, json.items.at(-2).metadata.name)
  })
})
