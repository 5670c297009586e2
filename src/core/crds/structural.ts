/**
 * Turns a kind's JSON Schema (as ajv reads it) into a structural OpenAPI v3 schema the API server
 * accepts. What Kubernetes cannot express is dropped here because it has a CEL twin in
 * `x-kubernetes-validations` (if/then, for instance) or is implied (unknown fields are pruned, and
 * rejected by strict field validation, so `additionalProperties: false` is redundant).
 */
const DROP = new Set(['$id', '$schema', 'title', 'if', 'then', 'else', 'const'])

export function toStructural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toStructural)
  if (schema === null || typeof schema !== 'object') return schema
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (DROP.has(key)) continue
    if (key === 'additionalProperties' && value === false) continue
    if (key === 'allOf') {
      // allOf is only used for if/then pairs, which CEL covers; keep anything else.
      const kept = (value as unknown[]).map(toStructural).filter((s) => Object.keys(s as object).length > 0)
      if (kept.length > 0) out.allOf = kept
      continue
    }
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toStructural(v)]))
      continue
    }
    out[key] = toStructural(value)
  }
  if ((schema as Record<string, unknown>).const !== undefined) out.enum = [(schema as Record<string, unknown>).const]
  return out
}
