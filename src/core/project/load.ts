import {readFileSync} from 'node:fs'
import {stat} from 'node:fs/promises'
import path from 'node:path'

import {UsageError} from '../errors.js'
import {API_VERSION, kindInfo} from '../model/kinds.js'
import type {KindName} from '../model/types.js'
import type {Finding} from '../validate/finding.js'
import {listYamlFiles} from './files.js'
import {parseYamlFileFast} from './fast-source.js'
import {readFilesFast} from './parallel-read.js'
import type {Resource} from './resource.js'
import {type ParsedFile, parseYamlFile} from './source.js'

export interface Project {
  /** Absolute path of the project directory. */
  root: string
  resources: Resource[]
  /** Contract documents named by a DataContract's documentRef, by project-relative path. */
  contractDocuments: Map<string, ParsedFile>
  /** Problems found while reading: `yaml` and `unknown-kind`. */
  findings: Finding[]
}

export interface LoadOptions {
  /**
   * false: read without source positions (faster), for a caller that redoes the load with them
   * as soon as `PositionsNeeded` is thrown, i.e. on any finding or anything unusual in a file.
   */
  positions?: boolean
}

/** Reads every YAML document under `dir` into resources, keeping their source positions. */
export async function loadProject(dir: string, options: LoadOptions = {}): Promise<Project> {
  const parse = options.positions === false ? parseYamlFileFast : parseYamlFile
  const root = path.resolve(dir)
  const info = await stat(root).catch(() => undefined)
  if (!info) throw new UsageError(`${dir}: no such directory`, ['Pass the directory of a data product (the one holding dappmesh.yaml).'])
  if (!info.isDirectory()) throw new UsageError(`${dir}: not a directory`, ['Pass the directory of a data product (the one holding dappmesh.yaml).'])

  const files = await listYamlFiles(root)
  // Read synchronously: a project is many small files, and one blocking read each is several
  // times faster than a thread-pool round trip per open, stat, read and close (see bench/).
  // Without positions a large project is read on every core (parallel-read.ts).
  const parsed = options.positions === false ? await readFilesFast(root, files) : files.map((file) => parse(file, readFileSync(path.join(root, file), 'utf8')))
  // A contract document may be any YAML or JSON file (say `orders.odcs.json`), not only *.yaml.
  const known = new Set(files)
  for (const ref of contractDocumentPaths(parsed)) {
    if (known.has(ref) || ref.startsWith('../')) continue
    const text = readOptional(path.join(root, ref))
    if (text !== undefined) parsed.push(parse(ref, text))
  }
  return fromParsedFiles(root, parsed)
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** Builds a project from files already parsed; the part of loading that needs no disk. */
export function fromParsedFiles(root: string, parsed: ParsedFile[]): Project {
  const refs = contractDocumentPaths(parsed)
  const contractDocuments = new Map<string, ParsedFile>()
  const resources: Resource[] = []
  const findings: Finding[] = []

  for (const file of parsed) {
    if (refs.has(file.file)) {
      contractDocuments.set(file.file, file)
      findings.push(...file.findings)
      continue
    }
    findings.push(...file.findings)
    for (const source of file.broken) {
      const c = source.doc.contents as any
      const kind = c?.get?.('kind')
      const name = c?.getIn?.(['metadata', 'name'])
      if (typeof kind === 'string' && kindInfo(kind) && typeof name === 'string') resources.push({kind: kind as KindName, name, object: {} as any, source, broken: true})
    }
    for (const source of file.documents) {
      const object = source.object
      if (object === null || typeof object !== 'object' || Array.isArray(object)) {
        findings.push(source.finding([], {rule: 'unknown-kind', severity: 'error', message: 'this document is not a mapping; a dappmesh resource has apiVersion, kind, metadata and spec'}))
        continue
      }
      const {apiVersion, kind, metadata} = object as Record<string, any>
      const name = metadata && typeof metadata === 'object' && typeof metadata.name === 'string' ? metadata.name : ''
      if (apiVersion !== API_VERSION || typeof kind !== 'string' || !kindInfo(kind)) {
        findings.push(unknownKind(source, apiVersion, kind))
        if (typeof kind === 'string' && kindInfo(kind) && name) resources.push({kind: kind as KindName, name, object: {} as any, source, broken: true})
        continue
      }
      resources.push({kind: kind as KindName, name, object: object as any, source})
    }
  }
  return {root, resources, contractDocuments, findings}
}

function unknownKind(source: ParsedFile['documents'][number], apiVersion: unknown, kind: unknown): Finding {
  if (apiVersion === undefined || kind === undefined) {
    const missing = apiVersion === undefined ? 'apiVersion' : 'kind'
    return source.finding([], {rule: 'unknown-kind', severity: 'error', message: `document has no ${missing}; dappmesh resources start with apiVersion: ${API_VERSION} and a kind`})
  }
  if (apiVersion !== API_VERSION) {
    const hint = kind === 'DataContract' ? ' (an ODCS contract document must be named by a DataContract\'s documentRef.path)' : ''
    return source.finding(['apiVersion'], {
      rule: 'unknown-kind',
      severity: 'error',
      kind: String(kind),
      message: `apiVersion ${JSON.stringify(apiVersion)} is not ${API_VERSION}${hint}`,
    })
  }
  return source.finding(['kind'], {
    rule: 'unknown-kind',
    severity: 'error',
    kind: String(kind),
    message: `unknown kind ${JSON.stringify(kind)}; dappmesh kinds are DataMesh, DataDomain, DataProduct, DataRole, DataSchema, DataFlow, DataWorkflow, DataContract, InputPort, OutputPort, DataStorage`,
  })
}

/** Project-relative paths named by DataContracts' documentRef.path (relative to the contract's file). */
function contractDocumentPaths(parsed: ParsedFile[]): Set<string> {
  const out = new Set<string>()
  for (const file of parsed) {
    for (const source of file.documents) {
      const ref = source.hasPositions ? documentRefOfNode(source.doc.contents) : documentRefOfObject(source.object)
      if (typeof ref === 'string') out.add(resolveRelative(file.file, ref))
    }
  }
  return out
}

/** A DataContract's documentRef.path, read from the document's nodes (an alias is not followed). */
function documentRefOfNode(c: any): unknown {
  if (!c || typeof c.get !== 'function') return undefined
  if (c.get('kind') !== 'DataContract' || c.get('apiVersion') !== API_VERSION) return undefined
  return c.getIn?.(['spec', 'documentRef', 'path'])
}

/** The same from a document read without positions (which has no aliases, see fast-source.ts). */
function documentRefOfObject(c: any): unknown {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) return undefined
  if (c.kind !== 'DataContract' || c.apiVersion !== API_VERSION) return undefined
  const spec = c.spec
  const documentRef = spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? spec.documentRef : undefined
  return documentRef !== null && typeof documentRef === 'object' && !Array.isArray(documentRef) ? documentRef.path : undefined
}

/** Resolves `ref` against the directory of `file`, both project-relative with forward slashes. */
export function resolveRelative(file: string, ref: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(file), ref))
}
