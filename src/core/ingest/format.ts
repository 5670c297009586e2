import {extname} from 'node:path'

export const INPUT_FORMATS = ['csv', 'ndjson', 'json', 'parquet'] as const
export type InputFormat = (typeof INPUT_FORMATS)[number]

const BY_EXTENSION: Record<string, InputFormat> = {
  '.csv': 'csv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'json',
  '.parquet': 'parquet',
}

/** Extensions a sample file `data/<port>.<ext>` may have, in the order they are looked for. */
export const SAMPLE_EXTENSIONS = Object.keys(BY_EXTENSION)

export function formatOfPath(path: string): InputFormat | undefined {
  return BY_EXTENSION[extname(path).toLowerCase()]
}

/** A response's format by its media type; undefined for generic types (the URL's extension decides then). */
export function formatOfContentType(contentType: string | null): InputFormat | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase()
  if (type === 'text/csv' || type === 'application/csv') return 'csv'
  if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl' || type === 'application/x-jsonlines') return 'ndjson'
  if (type === 'application/json') return 'json'
  if (type === 'application/vnd.apache.parquet' || type === 'application/x-parquet') return 'parquet'
  return undefined
}
