import type {ChalkInstance} from 'chalk'

import type {DiffResult} from './diff.js'

/** The human form of a diff: each changed object's unified diff, then a one-line summary. */
export function formatDiff(result: DiffResult, colour: ChalkInstance): string {
  const out: string[] = []
  for (const change of result.changes) {
    out.push(colour.bold(`${change.action} ${change.kind}/${change.name}${change.namespace ? ` in ${change.namespace}` : ''}`))
    for (const line of change.diff.replace(/\n$/, '').split('\n')) {
      if (line.startsWith('+++') || line.startsWith('---')) out.push(colour.bold(line))
      else if (line.startsWith('@@')) out.push(colour.cyan(line))
      else if (line.startsWith('+')) out.push(colour.green(line))
      else if (line.startsWith('-')) out.push(colour.red(line))
      else out.push(line)
    }
    out.push('')
  }
  const count = (action: string) => result.changes.filter((c) => c.action === action).length
  out.push(
    result.changes.length === 0
      ? `${result.product}: no changes (${result.unchanged} objects up to date in context ${result.context})`
      : `${result.product}: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete (apply --prune), ${result.unchanged} unchanged`,
  )
  return out.join('\n')
}
