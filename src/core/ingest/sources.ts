import {access} from 'node:fs/promises'
import {join, relative, resolve} from 'node:path'

import type {PlannedInput} from '../engine/plan.js'
import {ExitCode, UsageError, UserError} from '../errors.js'
import type {InputPort} from '../model/types.js'
import type {ValidationContext} from '../validate/context.js'
import {contractDocument} from '../validate/rules/contract.js'
import {type InputFormat, INPUT_FORMATS, SAMPLE_EXTENSIONS, formatOfPath} from './format.js'
import type {ProductSource} from './product.js'
import {type RemoteKind, remoteKind, remoteLabel} from './remote.js'

/** Where the rows of one input port come from in this run. */
export type InputSource =
  | {port: string; state: string; type: 'file'; file: string; format: InputFormat; label: string}
  | {port: string; state: string; type: 'url'; url: string; label: string}
  | {port: string; state: string; type: 'product'; source: ProductSource; label: string}
  | {port: string; state: string; type: 'remote'; kind: RemoteKind; uri: string; label: string}

/** `--input port=location` values, by port. A location with a scheme (`http://…`) is a URL. */
export function parseInputFlags(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const value of values) {
    const at = value.indexOf('=')
    if (at <= 0 || at === value.length - 1) throw new UsageError(`--input ${value}: expected PORT=FILE or PORT=URL, e.g. --input orders-events=data/orders.csv`)
    const port = value.slice(0, at)
    if (out.has(port)) throw new UsageError(`--input ${port} is given twice; give each input port once`)
    out.set(port, value.slice(at + 1))
  }
  return out
}

const isUrl = (location: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(location)

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  )
}

/**
 * Picks, for each input port of the run, where its rows come from (§7): `--input` first, then
 * the project's sample file `data/<port>.<ext>`, then the port's own source (`http` with a `uri`
 * is pulled). Sources a local run cannot read are refused with exit 2, saying what to do.
 * A port with none of these contributes no rows: its state keeps what it accumulated.
 */
export async function resolveInputs(ctx: ValidationContext, root: string, inputs: readonly PlannedInput[], overrides: ReadonlyMap<string, string>, cwd = process.cwd(), options: {only?: boolean} = {}): Promise<InputSource[]> {
  const ports = new Set(inputs.map((i) => i.port))
  for (const port of overrides.keys()) {
    if (!ports.has(port)) {
      throw new UsageError(`--input ${port}: no flow of this run reads an input port named "${port}"`, [ports.size > 0 ? `Input ports of this run: ${[...ports].join(', ')}.` : 'This run reads no input port.'])
    }
  }
  const out: InputSource[] = []
  for (const input of inputs) {
    const override = overrides.get(input.port)
    const declared = ctx.object('InputPort', input.port)?.spec.source
    // A product source's --input URL is the producer's runtime: its port is read page by page, under its contract.
    if (override !== undefined && declared?.type === 'product' && isUrl(override)) {
      out.push(productInput(ctx, input, declared, override))
      continue
    }
    if (override !== undefined) {
      out.push(await fromLocation(input, override, cwd))
      continue
    }
    if (options.only) continue
    const sample = await sampleFile(root, input.port)
    if (sample) {
      out.push({port: input.port, state: input.state, type: 'file', file: sample, format: formatOfPath(sample)!, label: relative(root, sample)})
      continue
    }
    const source = ctx.object('InputPort', input.port)?.spec.source
    if (!source) continue
    const hint = `Give its rows with --input ${input.port}=FILE, or put a sample file at data/${input.port}.csv.`
    switch (source.type) {
      case 'http': {
        if (source.uri) out.push({port: input.port, state: input.state, type: 'url', url: source.uri, label: source.uri})
        break
      }
      case 's3':
      case 'postgres': {
        if (source.uri) out.push({port: input.port, state: input.state, type: 'remote', kind: source.type, uri: source.uri, label: remoteLabel(source.uri)})
        break
      }
      case 'kafka': {
        throw new UserError(`input port ${input.port} reads kafka (${source.uri ?? 'no uri'}), which dappmesh run does not support yet`, {exit: ExitCode.usage, suggestions: [hint]})
      }
      case 'product': {
        throw new UserError(`input port ${input.port} reads product ${source.product ?? '?'} port ${source.port ?? '?'}: a local run needs the producer runtime's URL`, {
          exit: ExitCode.usage,
          suggestions: [`Start the producer with dappmesh serve and pass --input ${input.port}=http://127.0.0.1:8080, or give its rows with --input ${input.port}=FILE.`],
        })
      }
      default: {
        throw new UserError(`input port ${input.port} reads ${source.type} (${source.uri ?? 'no uri'}), which this dappmesh cannot read yet`, {exit: ExitCode.usage, suggestions: [hint]})
      }
    }
  }
  return out
}

function productInput(ctx: ValidationContext, input: PlannedInput, source: InputPort['spec']['source'], baseUrl: string): InputSource {
  if (!source.port) throw new UsageError(`input port ${input.port} reads a product but names no source.port`, ['Set source.port to the producer\'s output port.'])
  // The consumer's own copy of the contract (same name), when it has one, pins id and major version.
  const copy = source.contract ? ctx.get('DataContract', source.contract) : undefined
  const doc = copy ? (contractDocument(ctx, copy) as {id?: unknown; version?: unknown} | undefined) : undefined
  const expected = doc ? {id: doc.id === undefined ? null : String(doc.id), version: doc.version === undefined ? null : String(doc.version)} : undefined
  return {
    port: input.port,
    state: input.state,
    type: 'product',
    source: {input: input.port, baseUrl, product: source.product, port: source.port, contract: source.contract, expected, token: process.env.DAPPMESH_TOKEN},
    label: `${baseUrl}/v1/ports/${source.port}`,
  }
}

async function fromLocation(input: PlannedInput, location: string, cwd: string): Promise<InputSource> {
  const kind = remoteKind(location)
  if (kind) return {port: input.port, state: input.state, type: 'remote', kind, uri: location, label: remoteLabel(location)}
  if (isUrl(location)) return {port: input.port, state: input.state, type: 'url', url: location, label: location}
  const file = resolve(cwd, location)
  if (!(await exists(file))) throw new UsageError(`--input ${input.port}: no file ${location}`, ['Give the path of a CSV, NDJSON, JSON or Parquet file, or a URL.'])
  const format = formatOfPath(file)
  if (!format) throw new UsageError(`--input ${input.port}: cannot tell the format of ${location}; name it .csv, .ndjson, .jsonl, .json or .parquet`, [`Formats: ${INPUT_FORMATS.join(', ')}.`])
  return {port: input.port, state: input.state, type: 'file', file, format, label: location}
}

async function sampleFile(root: string, port: string): Promise<string | undefined> {
  for (const ext of SAMPLE_EXTENSIONS) {
    const file = join(root, 'data', `${port}${ext}`)
    if (await exists(file)) return file
  }
  return undefined
}
