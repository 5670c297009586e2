import {Document, visit} from 'yaml'

/**
 * Strings the YAML 1.1 schema leaves alone but a YAML 1.2 reader retypes (`0o17` is 15 there), or
 * that a 1.1 reader may treat specially (`=` the value key, `<<` the merge key).
 */
const RETYPED_BEYOND_1_1 = /^(?:0o[0-7]+|=|<<)$/

/**
 * YAML for other tools to read (kubectl, GitOps controllers): written with the YAML 1.1 schema,
 * which kubectl's reader follows, so that every string 1.1 would retype is quoted (`on`, `off`,
 * `y`, `n`, `yes`, `no`, `~`, `0755`, `1_000`, `1:20`, `2001-12-14`, ...); the strings only YAML 1.2
 * retypes are quoted too, so that any reader gets the same strings back. Objects used twice are
 * written out in full, never as an anchor and an alias; lines are never folded.
 */
export function toYaml(value: unknown): string {
  const doc = new Document(value, {version: '1.1', aliasDuplicateObjects: false})
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && RETYPED_BEYOND_1_1.test(node.value)) {
        // The 1.1 merge key type claims "<<" and writes it plain, whatever its style: only an
        // explicit tag (`!!str "<<"`) keeps it a string.
        if (node.value === '<<') node.tag = 'tag:yaml.org,2002:str'
        node.type = 'QUOTE_DOUBLE'
      }
    },
  })
  return doc.toString({lineWidth: 0})
}


/** Several objects as one multi-document YAML stream, as `kubectl apply -f -` reads it. */
export function toYamlStream(items: unknown[]): string {
  return [...yamlStreamParts(items)].join('')
}

/**
 * The stream of `toYamlStream` in pieces, one object each, so that a large product is written out
 * as it is converted instead of held twice more in memory (the pieces, then their join).
 */
export function* yamlStreamParts(items: unknown[]): Generator<string> {
  for (const [i, item] of items.entries()) {
    const text = toYaml(item)
    yield (i === 0 ? '' : '---\n') + (i === items.length - 1 ? text.trimEnd() : text)
  }
}

/** The kubectl List that `-o json` and `--json` both print, so the two never disagree. */
export interface KubeList<T> {
  apiVersion: 'v1'
  kind: 'List'
  items: T[]
}

export function kubeList<T>(items: T[]): KubeList<T> {
  return {apiVersion: 'v1', kind: 'List', items}
}
