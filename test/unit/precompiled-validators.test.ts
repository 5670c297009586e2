import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {parseAllDocuments} from 'yaml'

import {KINDS, kindInfo} from '../../src/core/model/kinds.js'
import {type PrecompiledModule, newAjv, precompiledFor} from '../../src/core/validate/ajv.js'
import {ODCS_VERSIONS} from '../../src/core/validate/odcs/versions.js'
import {precompiledModule, precompiledModules, precompiledSchemas} from '../../src/core/validate/precompile.js'
import {ROOT} from '../helpers/cli.js'

/** Evaluates the generated CommonJS source the way Node would load it from dist/. */
function load(source: string): PrecompiledModule {
  const module = {exports: {}}
  new Function('module', 'exports', 'require', source)(module, module.exports, createRequire(import.meta.url))
  return module.exports as PrecompiledModule
}

function exampleResources(): any[] {
  const files = ['dappmesh.yaml', 'mesh/cluster.yaml', 'mesh/domain.yaml', 'mesh/roles.yaml', 'model/orders/schema.yaml', 'model/orders/flow.yaml', 'model/orders/workflow.yaml',
    'services/orders/contracts.yaml', 'services/orders/input.yaml', 'services/orders/output.yaml', 'storage/operational.yaml', 'storage/analytics.yaml', 'storage/object.yml']
  return files.flatMap((f) => parseAllDocuments(readFileSync(path.join(ROOT, 'examples/orders', f), 'utf8')).map((d) => d.toJS()))
}

/** Ways to break a resource that reach most keywords: required, type, enum, pattern, additionalProperties, minItems, oneOf, if/then. */
function broken(resource: any): Array<[string, any]> {
  const copy = () => structuredClone(resource)
  const out: Array<[string, any]> = []
  let r = copy(); delete r.spec; out.push(['no spec', r])
  r = copy(); r.spec.bogus = 1; out.push(['unknown field', r])
  r = copy(); r.metadata.name = 42; out.push(['name of the wrong type', r])
  r = copy(); r.kind = 'DataLake'; out.push(['other kind', r])
  for (const key of Object.keys(resource.spec)) {
    r = copy(); r.spec[key] = key.length % 2 === 0 ? null : {x: [1]}; out.push([`spec.${key} of the wrong type`, r])
    r = copy(); r.spec[key] = Array.isArray(resource.spec[key]) ? [] : 'Not Valid!'; out.push([`spec.${key} emptied or misspelt`, r])
    r = copy(); delete r.spec[key]; out.push([`spec.${key} removed`, r])
  }
  return out
}

describe('precompiled validators', () => {
  const generated = load(precompiledModule())

  it('cover every kind and every ODCS version, each with the fingerprint of its schema', () => {
    const ids = precompiledSchemas().map((s) => s.$id as string)
    assert.equal(ids.length, KINDS.length + ODCS_VERSIONS.length)
    assert.deepEqual(Object.keys(generated.validators).sort(), [...ids].sort())
    for (const schema of precompiledSchemas()) assert.equal(typeof precompiledFor(schema, generated.validators), 'function', String(schema.$id))
  })

  it('put each ODCS version in a module of its own, so that a run reads only the versions it checks', () => {
    const modules = precompiledModules()
    assert.deepEqual(modules[0].schemas.map((s) => s.$id), KINDS.map((k) => k.schema.$id))
    assert.deepEqual(modules.slice(1).map((m) => [m.module, m.schemas.map((s) => s.$id)]), ODCS_VERSIONS.map((v) => [`odcs-${v}`, [`https://dappmesh.io/schemas/odcs-${v}.json`]]))
  })

  it('give the same verdict and the same errors as validators compiled at run time', () => {
    const ajv = newAjv()
    let compared = 0
    for (const resource of exampleResources()) {
      const schema = kindInfo(resource.kind)!.schema
      const fresh = ajv.compile(schema)
      const ready = precompiledFor(schema, generated.validators)!
      for (const [what, object] of [['as in the example', resource] as [string, any], ...broken(resource)]) {
        const context = `${resource.kind}/${resource.metadata.name} ${what}`
        assert.equal(ready(object), fresh(object), context)
        assert.deepEqual(ready.errors, fresh.errors, context)
        compared++
      }
    }
    assert.ok(compared > 250, `only ${compared} comparisons`)
  })

  it('are not used for a schema that changed since they were generated (a stale build compiles afresh)', () => {
    const schema = structuredClone(kindInfo('DataStorage')!.schema)
    assert.ok(precompiledFor(schema, generated.validators))
    const spec = schema.properties.spec as {properties: {replicas: {maximum: number}}}
    spec.properties.replicas.maximum = 7
    assert.equal(precompiledFor(schema, generated.validators), undefined)
  })
})
