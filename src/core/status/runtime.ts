import {runtimeName} from '../reconcile/product/runtime.js'
import type {ComponentView, ContractResultView, RuntimeView, WorkflowRunView} from './result-schema.js'

/**
 * What a product's runtime records in its DataProduct's `status.runtime` (a merge patch of the
 * status subresource, which its Role allows on its own product only): the last run of each
 * workflow and the last evaluation of each output port's contract. The operator writes the
 * other status fields and never this one.
 *
 *   status:
 *     runtime:
 *       workflows: [{workflow, run, result: succeeded|failed|running, startedAt, finishedAt, rows, message}]
 *       contracts: [{port, contract, version, result: passed|failed, checkedAt, failed: [rule, ...]}]
 */
export interface RuntimeStatus {
  workflows?: WorkflowRunView[]
  contracts?: ContractResultView[]
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined)

function optional<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
  const t = text(value)
  return t === undefined ? {} : ({[key]: t} as Record<K, string>)
}

/** A workflow run as written by a runtime; anything malformed is dropped, never trusted whole. */
function workflowRun(value: unknown): WorkflowRunView | undefined {
  const raw = asRecord(value)
  const workflow = text(raw?.workflow)
  const result = raw?.result
  if (!raw || !workflow || !isOneOf(result, ['succeeded', 'failed', 'running'] as const)) return undefined
  return {
    workflow,
    result,
    ...optional('run', raw.run),
    ...optional('startedAt', raw.startedAt),
    ...optional('finishedAt', raw.finishedAt),
    ...(Number.isInteger(raw.rows) ? {rows: raw.rows as number} : {}),
    ...optional('message', raw.message),
  }
}

function contractResult(value: unknown): ContractResultView | undefined {
  const raw = asRecord(value)
  const port = text(raw?.port)
  const result = raw?.result
  if (!raw || !port || !isOneOf(result, ['passed', 'failed'] as const)) return undefined
  const failed = Array.isArray(raw.failed) ? raw.failed.filter((f: unknown) => typeof f === 'string') : []
  return {port, result, ...optional('contract', raw.contract), ...optional('version', raw.version), ...optional('checkedAt', raw.checkedAt), ...(failed.length > 0 ? {failed} : {})}
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
}

function isOneOf<const T extends string>(value: unknown, options: readonly T[]): value is T {
  return (options as readonly unknown[]).includes(value)
}

const defined = <T>(items: Array<T | undefined>): T[] => items.filter((i): i is T => i !== undefined)

/**
 * The runtime of a product as status shows it: readiness from its StatefulSet among the
 * operator's components, and the runs and contract results the runtime recorded. Undefined when
 * the product has no runtime component (an operator older than the runtime).
 */
export function runtimeView(product: {metadata?: {name?: string}; status?: {runtime?: unknown}} | undefined, components: ComponentView[]): RuntimeView | undefined {
  const name = runtimeName(String(product?.metadata?.name ?? ''))
  const component = components.find((c) => c.kind === 'StatefulSet' && c.name === name)
  if (!component) return undefined
  const recorded = asRecord(product?.status?.runtime) ?? {}
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])
  const workflows = defined(list(recorded.workflows).map(workflowRun)).sort((a, b) => a.workflow.localeCompare(b.workflow))
  const contracts = defined(list(recorded.contracts).map(contractResult)).sort((a, b) => a.port.localeCompare(b.port))
  return {name, ready: component.ready, ...(component.message ? {message: component.message} : {}), workflows, contracts}
}
