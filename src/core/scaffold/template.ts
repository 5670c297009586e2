/**
 * Renders the files under templates/. A YAML template is parsed first and its values are replaced
 * in the parsed tree, so a value is always serialized as a YAML scalar (or list, or mapping) by the
 * `yaml` library: quotes, colons and newlines in a value cannot change the document's structure.
 */
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {type Document, isMap, isScalar, isSeq, parseAllDocuments, visit} from 'yaml'

/** The templates/ directory shipped with the package (this file is src/core/scaffold or dist/core/scaffold). */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/', import.meta.url))

export type TemplateValue = string | number | boolean | undefined | TemplateValue[] | {[key: string]: TemplateValue}
export type Variables = Record<string, TemplateValue>

const EXACT = /^\$\{([A-Za-z][A-Za-z0-9]*)\}$/
const INSIDE = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g

/** A template refers to a variable nobody set: a bug in dappmesh, not the user's input. */
export class TemplateError extends Error {
  override name = 'TemplateError'
}

export async function readTemplate(relative: string): Promise<string> {
  return readFile(path.join(TEMPLATES_DIR, relative), 'utf8')
}

function lookup(vars: Variables, name: string, template: string): TemplateValue {
  if (!(name in vars)) throw new TemplateError(`template ${template} uses \${${name}}, which has no value`)
  return vars[name]
}

function interpolate(text: string, vars: Variables, template: string): string {
  return text.replace(INSIDE, (_, name: string) => {
    const value = lookup(vars, name, template)
    if (typeof value !== 'string' && typeof value !== 'number') throw new TemplateError(`template ${template} puts \${${name}} inside a string, but it is not a string`)
    return String(value)
  })
}

/**
 * Renders a YAML template (one or more documents) into YAML text. A mapping entry whose value is
 * exactly `${name}` with `name` undefined is dropped, so optional fields need no conditionals.
 */
export function renderYaml(text: string, vars: Variables, template = 'template'): string {
  const docs = parseAllDocuments(text)
  const out: string[] = []
  for (const doc of docs) {
    if ('errors' in doc && doc.errors.length > 0) throw new TemplateError(`template ${template} is not valid YAML: ${doc.errors[0].message}`)
    fill(doc as Document, vars, template)
    out.push(doc.toString({lineWidth: 0, flowCollectionPadding: false}))
  }
  return out.join('---\n')
}

function fill(doc: Document, vars: Variables, template: string): void {
  visit(doc, {
    Pair(_, pair) {
      const v = pair.value
      if (isScalar(v) && typeof v.value === 'string') {
        const m = EXACT.exec(v.value)
        if (m && lookup(vars, m[1], template) === undefined) return visit.REMOVE
      }
      return undefined
    },
    Scalar(key, node) {
      if (typeof node.value !== 'string') return undefined
      if (key === 'key') {
        if (node.value.includes('${')) throw new TemplateError(`template ${template} has \${…} in a key; only values are filled in`)
        return undefined
      }
      const m = EXACT.exec(node.value)
      if (m) {
        const value = lookup(vars, m[1], template)
        if (value === undefined) throw new TemplateError(`template ${template} puts \${${m[1]}} where it cannot be left out`)
        if (typeof value === 'string') {
          node.value = value
          node.type = undefined // let the serializer pick a style that keeps the value a string
          return undefined
        }
        const created = doc.createNode(value)
        if (isMap(created) || isSeq(created) || isScalar(created)) created.comment = node.comment
        // A list of flat mappings (fields, grants, contract properties) reads best one per line.
        if (isSeq(created)) for (const item of created.items) if (isMap(item) && item.items.every((p) => isScalar(p.value))) item.flow = true
        return created
      }
      if (node.value.includes('${')) {
        node.value = interpolate(node.value, vars, template)
        if (node.type === 'PLAIN') node.type = undefined
      }
      return undefined
    },
  })
  // Comments may name variables too (`# The schema of ${entity}`); they are text, not values.
  if (doc.commentBefore) doc.commentBefore = interpolateComment(doc.commentBefore, vars, template)
  visit(doc, {
    Node(_, node) {
      if (node.commentBefore) node.commentBefore = interpolateComment(node.commentBefore, vars, template)
      if (node.comment) node.comment = interpolateComment(node.comment, vars, template)
    },
  })
  if (doc.comment) doc.comment = interpolateComment(doc.comment, vars, template)
}

/** A comment ends at a line break, so a value in it must be single-line (names are). */
function interpolateComment(text: string, vars: Variables, template: string): string {
  return text.replace(INSIDE, (_, name: string) => {
    const value = lookup(vars, name, template)
    if (typeof value !== 'string' || /[\r\n]/.test(value)) throw new TemplateError(`template ${template} puts \${${name}} in a comment, but it is not a one-line string`)
    return value
  })
}
