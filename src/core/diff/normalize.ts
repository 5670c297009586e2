import {stringify} from 'yaml'

import type {KubeObject} from '../kube/types.js'

/** What the server owns or bumps on every write: noise in a diff of what the user declared. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink']

/** An object without server bookkeeping and status, keys sorted so equal objects print equally. */
export function comparable(object: KubeObject | undefined): unknown {
  if (!object) return undefined
  const {status: _status, ...rest} = object as KubeObject & {status?: unknown}
  const metadata: Record<string, unknown> & {annotations?: Record<string, string>} = {...rest.metadata}
  for (const field of SERVER_METADATA) delete metadata[field]
  if (metadata.annotations && Object.keys(metadata.annotations).length === 0) delete metadata.annotations
  return sortKeys({...rest, metadata})
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key])
  return out
}

/** The YAML a diff compares: '' for an object that does not exist. */
export function diffableYaml(object: KubeObject | undefined): string {
  const clean = comparable(object)
  return clean === undefined ? '' : stringify(clean, {lineWidth: 0, aliasDuplicateObjects: false})
}
