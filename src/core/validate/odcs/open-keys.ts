import type {JsonSchema} from './common.js'

/*
 * Up to 3.0.2 the standard leaves many objects open (servers, quality checks, team members,
 * support channels, roles ...), so `requried: true` there is valid ODCS, and an error would
 * disagree with the standard. It is still almost always a typo: these are warnings. Found by
 * walking the document with the same schema that judged it, so the keys allowed here are exactly
 * the ones the schema knows.
 */

/** A key the schema does not know, in an object it leaves open. */
export interface OpenKey {
  segments: string[]
  key: string
  known: string[]
}

export function unknownKeysInOpenObjects(schema: JsonSchema, document: unknown): OpenKey[] {
  const out: OpenKey[] = []
  walk(schema, schema, document, [], out)
  return out
}

function walk(root: JsonSchema, node: JsonSchema, value: unknown, at: string[], out: OpenKey[]): void {
  // The schema and the branches that apply to this value (if/then/else, allOf).
  const parts = applicable(root, resolve(root, node), value)
  if (Array.isArray(value)) {
    const items = parts.map((p) => p.items).find(isSchema)
    if (items) value.forEach((item, i) => walk(root, items, item, [...at, String(i)], out))
    return
  }
  if (!isRecord(value)) return
  const properties = new Map<string, JsonSchema>()
  for (const part of parts) {
    for (const [k, s] of Object.entries((part.properties as Record<string, unknown> | undefined) ?? {})) {
      const known = properties.get(k)
      // Branches list the keys the enclosing schema types as {}: keep the typed schema.
      if (isSchema(s) && (!known || Object.keys(known).length === 0)) properties.set(k, s)
    }
  }
  const closed = parts.some((p) => p.additionalProperties === false)
  if (properties.size > 0 && !closed) {
    for (const key of Object.keys(value)) if (!properties.has(key)) out.push({segments: [...at, key], key, known: [...properties.keys()]})
  }
  for (const [key, v] of Object.entries(value)) {
    const sub = properties.get(key)
    if (sub) walk(root, sub, v, [...at, key], out)
  }
}

function applicable(root: JsonSchema, schema: JsonSchema, value: unknown): JsonSchema[] {
  const out = [schema]
  for (const part of (schema.allOf as JsonSchema[] | undefined) ?? []) out.push(...applicable(root, resolve(root, part), value))
  if (isSchema(schema.if)) {
    const branch = holds(schema.if as JsonSchema, value) ? schema.then : schema.else
    if (isSchema(branch)) out.push(...applicable(root, resolve(root, branch as JsonSchema), value))
  }
  return out
}

/** Whether `value` meets an `if` condition: only the forms the ODCS schemas use in one. */
function holds(condition: JsonSchema, value: unknown): boolean {
  if (condition.type === 'array') return Array.isArray(value)
  if (!isRecord(value)) return false
  if (Array.isArray(condition.required) && !condition.required.every((k) => k in value)) return false
  for (const [k, s] of Object.entries((condition.properties as Record<string, JsonSchema> | undefined) ?? {})) {
    if (!(k in value)) continue
    const v = value[k]
    if ('const' in s && v !== s.const) return false
    if (s.type === 'string' && typeof v !== 'string') return false
    if (isSchema(s.not) && Array.isArray((s.not as JsonSchema).enum) && ((s.not as JsonSchema).enum as unknown[]).includes(v)) return false
  }
  if (isSchema(condition.not) && holds(condition.not as JsonSchema, value)) return false
  if (Array.isArray(condition.anyOf) && !(condition.anyOf as JsonSchema[]).some((c) => holds(c, value))) return false
  return true
}

function resolve(root: JsonSchema, node: JsonSchema): JsonSchema {
  const ref = node.$ref
  if (typeof ref !== 'string' || !ref.startsWith('#/definitions/')) return node
  return (root.definitions as Record<string, JsonSchema>)[ref.slice('#/definitions/'.length)]
}

function isSchema(value: unknown): value is JsonSchema {
  return isRecord(value)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
