import {kindInfo} from '../../model/kinds.js'
import type {Resource} from '../../project/resource.js'
import {compile} from '../ajv.js'
import {describeErrors} from '../describe-error.js'
import type {Finding} from '../finding.js'

/** `schema`: the resource against its kind's JSON Schema (the same one its CRD is made from). */
export function checkSchema(resource: Resource): Finding[] {
  const info = kindInfo(resource.kind)
  if (!info) return []
  const validate = compile(info.schema)
  if (validate(resource.object)) return []
  return describeErrors(validate.errors ?? []).map((d) =>
    resource.source.finding(d.segments, {rule: 'schema', severity: 'error', kind: resource.kind, name: resource.name, message: d.message}, {key: d.key}),
  )
}
