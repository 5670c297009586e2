import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'

/**
 * One ajv instance for the process. The kinds' schemas carry Kubernetes vendor keywords (CEL
 * rules, preserve-unknown-fields) that only the API server evaluates; ajv is told they exist.
 */
let instance: Ajv | undefined
const compiled = new Map<object, ValidateFunction>()

export function ajv(): Ajv {
  if (!instance) {
    instance = new Ajv({allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true, validateSchema: false})
    instance.addKeyword({keyword: 'x-kubernetes-validations'})
    instance.addKeyword({keyword: 'x-kubernetes-preserve-unknown-fields'})
  }
  return instance
}

export function compile(schema: object): ValidateFunction {
  let fn = compiled.get(schema)
  if (!fn) {
    fn = ajv().compile(schema)
    compiled.set(schema, fn)
  }
  return fn
}

export type {ErrorObject}
