import {readFileSync} from 'node:fs'
import {stat} from 'node:fs/promises'
import path from 'node:path'

import {UsageError} from '../errors.js'
import {editDistance} from '../closest.js'
import {API_VERSION, kindInfo} from '../model/kinds.js'
import type {KindName} from '../model/types.js'
import type {Finding} from '../validate/finding.js'
import {IGNORE_FILE, listYamlFiles} from './files.js'
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
  /**
   * YAML documents that are not dappmesh's (no dappmesh apiVersion, no dappmesh kind: a CI
   * workflow, a compose file, Kubernetes manifests), left out of the project and only counted.
   */
  skipped: number
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
  const parsed = options.positions === false ? await readFilesFast(root, files) : files.map((file) => readAndParse(root, file))
  // A contract document may be any YAML or JSON file (say `orders.odcs.json`), not only *.yaml.
  const known = new Set(files)
  for (const ref of contractDocumentPaths(parsed)) {
    if (known.has(ref) || ref.startsWith('../')) continue
    const text = readOptional(path.join(root, ref))
    if (text !== undefined) parsed.push(parse(ref, text))
  }
  return fromParsedFiles(root, parsed)
}

/** A file read with positions; one that cannot be read is a finding that says why, not a crash. */
function readAndParse(root: string, file: string): ParsedFile {
  let text: string
  try {
    text = readFileSync(path.join(root, file), 'utf8')
  } catch (error) {
    const {code, message} = error as NodeJS.ErrnoException
    const why = code === 'EACCES' ? 'permission denied (give the user running dappmesh read access)' : code === 'ENOENT' ? 'it is a symbolic link to nothing' : message
    return {file, documents: [], broken: [], findings: [{file, line: 1, column: 1, path: '', rule: 'yaml', severity: 'error', message: `cannot read this file: ${why}; or list it in ${IGNORE_FILE} to leave it out`}]}
  }
  return parseYamlFile(file, text)
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
  let skipped = 0

  for (const file of parsed) {
    if (refs.has(file.file)) {
      contractDocuments.set(file.file, file)
      findings.push(...file.findings)
      continue
    }
    findings.push(...file.findings)
    for (const source of file.broken) {
      const c = source.doc.contents as {get?: (key: string) => unknown; getIn?: (path: string[]) => unknown} | null
      const kind = c?.get?.('kind')
      const name = c?.getIn?.(['metadata', 'name'])
      if (typeof kind === 'string' && kindInfo(kind) && typeof name === 'string') resources.push({kind: kind as KindName, name, object: brokenObject(), source, broken: true})
    }
    if (isOtherToolsFile(file)) {
      skipped += file.documents.length
      continue
    }
    for (const source of file.documents) {
      const object = source.object
      if (object === null || typeof object !== 'object' || Array.isArray(object)) {
        findings.push(source.finding([], {rule: 'unknown-kind', severity: 'error', message: 'this document is not a mapping; a dappmesh resource has apiVersion, kind, metadata and spec'}))
        continue
      }
      const {apiVersion, kind, metadata} = object as {apiVersion?: unknown; kind?: unknown; metadata?: {name?: unknown} | null}
      const name = metadata && typeof metadata === 'object' && typeof metadata.name === 'string' ? metadata.name : ''
      if (apiVersion !== API_VERSION || typeof kind !== 'string' || !kindInfo(kind)) {
        findings.push(unknownKind(source, apiVersion, kind))
        if (typeof kind === 'string' && kindInfo(kind) && name) resources.push({kind: kind as KindName, name, object: brokenObject(), source, broken: true})
        continue
      }
      // Only its envelope is known to be right until the schema rule passed (Resource.object).
      resources.push({kind: kind as KindName, name, object: object as Resource['object'], source})
    }
  }
  return {root, resources, contractDocuments, findings, skipped}
}

/** A broken resource's object: empty, and never read (no rule reads a broken resource). */
const brokenObject = (): Resource['object'] => ({}) as Resource['object']

const DAPPMESH_GROUP = API_VERSION.split('/')[0]

/**
 * A file of another tool (a CI workflow, a compose file, Kubernetes manifests): every document in
 * it is a mapping that is not meant as a dappmesh resource. A file with one dappmesh document is
 * dappmesh's, and a document in it without apiVersion or kind (say, after a stray `---`) is a
 * finding; so is a document that is a bare string or a list, which no manifest format is.
 */
function isOtherToolsFile(file: ParsedFile): boolean {
  if (file.documents.length === 0 || file.findings.length > 0 || file.broken.length > 0) return false
  return file.documents.every((d) => d.object !== null && typeof d.object === 'object' && !Array.isArray(d.object) && !looksLikeDappmesh(d.object))
}

/**
 * Whether a document is meant as a dappmesh resource, and so is checked (and a mistake in it
 * reported) rather than skipped: its apiVersion is in the dappmesh.io group or a near miss of it
 * (`dappmesh.io/v1alph1`, `dapmesh.io/v1alpha1`) or a beginning of ours, or its kind is a dappmesh kind whatever its
 * apiVersion (an ODCS contract that no DataContract names included). Anything else, such as a
 * GitHub workflow, a compose file or a Deployment, belongs to another tool.
 */
function looksLikeDappmesh(object: object): boolean {
  const {apiVersion, kind} = object as Record<string, unknown>
  if (typeof apiVersion === 'string') {
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : ''
    if (group === DAPPMESH_GROUP || (group !== '' && editDistance(group.toLowerCase(), DAPPMESH_GROUP) <= 2)) return true
    // Cut short (`dappme`, `dappmesh.io/v1`): unfinished, not another tool's.
    if (apiVersion.length >= 4 && API_VERSION.startsWith(apiVersion)) return true
  }
  return typeof kind === 'string' && kindInfo(kind) !== undefined
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
function documentRefOfNode(node: unknown): unknown {
  // A mapping node has get and getIn; anything else (a scalar, a sequence, nothing) has no documentRef.
  const c = node as {get?: (key: string) => unknown; getIn?: (path: string[]) => unknown} | null
  if (!c || typeof c.get !== 'function') return undefined
  if (c.get('kind') !== 'DataContract' || c.get('apiVersion') !== API_VERSION) return undefined
  return c.getIn?.(['spec', 'documentRef', 'path'])
}

/** The same from a document read without positions (which has no aliases, see fast-source.ts). */
function documentRefOfObject(value: unknown): unknown {
  const mapping = (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined)
  const c = mapping(value)
  if (!c) return undefined
  if (c.kind !== 'DataContract' || c.apiVersion !== API_VERSION) return undefined
  return mapping(mapping(c.spec)?.documentRef)?.path
}

/** Resolves `ref` against the directory of `file`, both project-relative with forward slashes. */
export function resolveRelative(file: string, ref: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(file), ref))
}
