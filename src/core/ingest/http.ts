import {createWriteStream} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {ExitCode, UserError} from '../errors.js'
import {type InputFormat, formatOfContentType, formatOfPath} from './format.js'

export interface Pulled {
  file: string
  format: InputFormat
}

/**
 * Downloads a URL into the run's scratch directory, streaming (a large body never sits in
 * memory), and tells its format by content type, else by the URL's extension.
 */
export async function pullUrl(url: string, scratchDir: string, name: string, fileName: string, signal?: AbortSignal): Promise<Pulled> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UserError(`input ${name}: "${url}" is not a URL`, {exit: ExitCode.usage})
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UserError(`input ${name}: cannot pull ${url}: only http and https URLs are read`, {exit: ExitCode.usage})
  }
  let response: Response
  try {
    response = await fetch(parsed, {signal, headers: {accept: 'text/csv, application/x-ndjson, application/json, application/vnd.apache.parquet;q=0.9, */*;q=0.1'}})
  } catch (error) {
    if (signal?.aborted) throw error
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80')
    const cause = (error as {cause?: {code?: string; message?: string}}).cause
    throw new UserError(`input ${name}: ${parsed.hostname}:${port} is unreachable (${cause?.code ?? cause?.message ?? (error as Error).message})`, {
      exit: ExitCode.unreachable,
      suggestions: [`Check that ${parsed.origin} is up, or give the rows with --input ${name}=FILE.`],
      cause: error,
    })
  }
  if (!response.ok || !response.body) {
    throw new UserError(`input ${name}: GET ${url} answered ${response.status} ${response.statusText}`, {suggestions: ['Check the uri of the InputPort source.']})
  }
  const format = formatOfContentType(response.headers.get('content-type')) ?? formatOfPath(parsed.pathname)
  if (!format) {
    await response.body.cancel()
    throw new UserError(`input ${name}: ${url} answered with content type "${response.headers.get('content-type')}", which is not CSV, NDJSON, JSON or Parquet`, {
      suggestions: ['Serve it as text/csv, application/x-ndjson, application/json or application/vnd.apache.parquet, or end the URL with the format\'s extension.'],
    })
  }
  const file = join(scratchDir, `${fileName}.${format}`)
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(file), {signal})
  return {file, format}
}
