import {createHash} from 'node:crypto'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

import type {Ajv, ErrorObject, Options, ValidateFunction} from 'ajv'

import {requireWithCodeCache} from '../code-cache.js'

const require = createRequire(import.meta.url)

/** How every kind's (and the ODCS) schema is compiled, at run time or ahead of it. */
export const AJV_OPTIONS: Options = {allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true, validateSchema: false}

/**
 * The kinds' schemas carry Kubernetes vendor keywords (CEL rules, preserve-unknown-fields) that
 * only the API server evaluates; ajv is told they exist.
 */
export function newAjv(options: Options = {}): Ajv {
  // Loaded on demand: with precompiled validators (below) a run need not load ajv's compiler at all.
  const {Ajv} = require('ajv') as typeof import('ajv')
  const instance = new Ajv({...AJV_OPTIONS, ...options})
  instance.addKeyword({keyword: 'x-kubernetes-validations'})
  instance.addKeyword({keyword: 'x-kubernetes-preserve-unknown-fields'})
  return instance
}

/**
 * What a compiled validator depends on: the schema, the options and ajv's version. A precompiled
 * validator is used only when its fingerprint matches, so a stale build compiles afresh instead
 * of validating against an old schema.
 */
export function fingerprint(schema: object): string {
  const {version} = require('ajv/package.json') as {version: string}
  return createHash('sha256').update(JSON.stringify([version, AJV_OPTIONS, schema])).digest('hex')
}

/** The module `npm run build` writes beside this one (scripts/compile-validators.js). */
export interface PrecompiledModule {
  validators: Record<string, {fingerprint: string; validate: ValidateFunction}>
}

/** A module of precompiled validators beside this one: `<name>.generated.cjs`. */
export type PrecompiledModuleName = 'validators' | `odcs-${string}`
export const KINDS_MODULE: PrecompiledModuleName = 'validators'
export function odcsModule(version: string): PrecompiledModuleName {
  return `odcs-${version}`
}

/** Precompiled validators by schema $id; none when running from source or before a build made them. */
function loadPrecompiled(module: PrecompiledModuleName): PrecompiledModule['validators'] {
  try {
    // Through V8's code cache: compiling these ~1 MB of generated functions was most of a cold run.
    return (requireWithCodeCache(fileURLToPath(new URL(`./${module}.generated.cjs`, import.meta.url))) as PrecompiledModule).validators
  } catch {
    return {}
  }
}

let instance: Ajv | undefined
const precompiled = new Map<PrecompiledModuleName, PrecompiledModule['validators']>()
const compiled = new Map<object, ValidateFunction>()

/** One ajv instance for the process. */
export function ajv(): Ajv {
  instance ??= newAjv()
  return instance
}

/** The validator of `schema`: precompiled in `module` when the build made it from this very schema. */
export function compile(schema: object, module: PrecompiledModuleName = KINDS_MODULE): ValidateFunction {
  let fn = compiled.get(schema)
  if (!fn) {
    let validators = precompiled.get(module)
    if (!validators) precompiled.set(module, (validators = loadPrecompiled(module)))
    fn = precompiledFor(schema, validators) ?? ajv().compile(schema)
    compiled.set(schema, fn)
  }
  return fn
}

/** The precompiled validator for `schema`, if there is one made from exactly this schema. */
export function precompiledFor(schema: object, validators: PrecompiledModule['validators']): ValidateFunction | undefined {
  const id = (schema as {$id?: unknown}).$id
  const ready = typeof id === 'string' ? validators[id] : undefined
  return ready && ready.fingerprint === fingerprint(schema) ? ready.validate : undefined
}

export type {ErrorObject}
