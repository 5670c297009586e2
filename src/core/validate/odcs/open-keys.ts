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

/**
 * What the applicable branches of a schema say about a value: its properties (merged), whether
 * one branch closes the object, and the schema of its items. Computed once per set of branches
 * and shared by every value that takes them: a project with a thousand contracts walks the same
 * few hundred schema nodes over and over (this walk was half of `validate`'s time before).
 */
interface Shape {
  properties: Map<string, JsonSchema>
  closed: boolean
  items: JsonSchema | undefined
}

export function unknownKeysInOpenObjects(schema: JsonSchema, document: unknown): OpenKey[] {
  const out: OpenKey[] = []
  walk(walkerOf(schema), schema, document, [], out)
  return out
}

/** The caches of one root schema (the ODCS schema of a version lives for the process). */
interface Walker {
  root: JsonSchema
  /** The shape of a node whose branches do not depend on the value (no `if` below it). */
  fixed: WeakMap<JsonSchema, Shape>
  /** Whether a node's branches depend on the value. */
  conditional: WeakMap<JsonSchema, boolean>
  /** Shapes by the identities of their branches, for the nodes whose branches depend on the value. */
  byParts: Map<string, Shape>
  ids: WeakMap<JsonSchema, number>
  nextId: number
}

const walkers = new WeakMap<JsonSchema, Walker>()

function walkerOf(root: JsonSchema): Walker {
  let walker = walkers.get(root)
  if (!walker) walkers.set(root, (walker = {root, fixed: new WeakMap(), conditional: new WeakMap(), byParts: new Map(), ids: new WeakMap(), nextId: 0}))
  return walker
}

/** `at` is the path of `value`, shared and restored on return; copied only into a finding. */
function walk(w: Walker, node: JsonSchema, value: unknown, at: string[], out: OpenKey[]): void {
  const shape = shapeOf(w, resolve(w.root, node), value)
  if (Array.isArray(value)) {
    if (!shape.items) return
    for (let i = 0; i < value.length; i++) {
      at.push(String(i))
      walk(w, shape.items, value[i], at, out)
      at.pop()
    }
    return
  }
  if (!isRecord(value)) return
  const {properties} = shape
  if (properties.size > 0 && !shape.closed) {
    for (const key of Object.keys(value)) if (!properties.has(key)) out.push({segments: [...at, key], key, known: [...properties.keys()]})
  }
  for (const key of Object.keys(value)) {
    const sub = properties.get(key)
    if (!sub) continue
    at.push(key)
    walk(w, sub, value[key], at, out)
    at.pop()
  }
}

function shapeOf(w: Walker, schema: JsonSchema, value: unknown): Shape {
  if (!isConditional(w, schema)) {
    let shape = w.fixed.get(schema)
    if (!shape) w.fixed.set(schema, (shape = merge(applicable(w.root, schema, value))))
    return shape
  }
  const parts = applicable(w.root, schema, value)
  const key = parts.map((p) => idOf(w, p)).join(',')
  let shape = w.byParts.get(key)
  if (!shape) w.byParts.set(key, (shape = merge(parts)))
  return shape
}

function merge(parts: JsonSchema[]): Shape {
  const properties = new Map<string, JsonSchema>()
  for (const part of parts) {
    for (const [k, s] of Object.entries((part.properties as Record<string, unknown> | undefined) ?? {})) {
      const known = properties.get(k)
      // Branches list the keys the enclosing schema types as {}: keep the typed schema.
      if (isSchema(s) && (!known || Object.keys(known).length === 0)) properties.set(k, s)
    }
  }
  return {properties, closed: parts.some((p) => p.additionalProperties === false), items: parts.map((p) => p.items).find(isSchema)}
}

/** Whether the branches that apply under `schema` depend on the value (an `if` in it or its allOf). */
function isConditional(w: Walker, schema: JsonSchema): boolean {
  let answer = w.conditional.get(schema)
  if (answer === undefined) {
    answer = isSchema(schema.if) || ((schema.allOf as JsonSchema[] | undefined) ?? []).some((part) => isConditional(w, resolve(w.root, part)))
    w.conditional.set(schema, answer)
  }
  return answer
}

function idOf(w: Walker, schema: JsonSchema): number {
  let id = w.ids.get(schema)
  if (id === undefined) w.ids.set(schema, (id = w.nextId++))
  return id
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
