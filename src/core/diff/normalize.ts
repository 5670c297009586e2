import {stringify} from 'yaml'

/** What the server owns or bumps on every write: noise in a diff of what the user declared. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink']

/** An object without server bookkeeping and status, keys sorted so equal objects print equally. */
export function comparable(object: any): any {
  if (!object) return undefined
  const {status: _status, ...rest} = object
  const metadata = {...rest.metadata}
  for (const field of SERVER_METADATA) delete metadata[field]
  if (metadata.annotations && Object.keys(metadata.annotations).length === 0) delete metadata.annotations
  return sortKeys({...rest, metadata})
}

function sortKeys(value: any): any {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, any> = {}
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key])
  return out
}

/** The YAML a diff compares: '' for an object that does not exist. */
export function diffableYaml(object: any): string {
  const clean = comparable(object)
  return clean === undefined ? '' : stringify(clean, {lineWidth: 0, aliasDuplicateObjects: false})
}
