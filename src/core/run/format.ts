import {formatTable} from '../cli/table.js'
import type {RunResult} from './result-schema.js'

/** A run's report for a terminal: a table per flow, rejected rows' first reasons, contract results. */
export function formatRun(result: RunResult): string {
  const out: string[] = []
  for (const run of result.runs) {
    out.push(`flow ${run.flow} (storage ${run.storage.name}, ${run.storage.engine})`)
    const rows = run.transitions.map((t) => [
      t.name,
      t.state.split('/').pop() ?? t.state,
      t.status,
      String(t.rowsIn),
      String(t.rowsOut),
      String(t.rowsRejected),
      t.stateRows === undefined ? '' : String(t.stateRows),
      t.status === 'skipped' ? '' : `${t.ms} ms`,
    ])
    out.push(formatTable(['TRANSITION', 'STATE', 'STATUS', 'IN', 'OUT', 'REJECTED', 'ROWS', 'TIME'], rows))
    for (const t of run.transitions) {
      if (t.status === 'skipped' && t.note) out.push(`  ${t.name}: skipped, ${t.note}`)
      if (t.rowsRejected > 0) {
        out.push(`  ${t.name}: ${t.rowsRejected} row${t.rowsRejected === 1 ? '' : 's'} rejected into ${t.state.split('/').pop()}__rejected, e.g.`)
        for (const reason of t.reasons ?? []) out.push(`    ${reason}`)
      }
    }
    out.push('')
  }
  for (const c of result.contracts) {
    const checked = c.rules.filter((r) => r.passed !== null)
    out.push(`contract ${c.contract} (port ${c.port}): ${c.passed ? 'passed' : 'FAILED'}, ${checked.length} rule${checked.length === 1 ? '' : 's'} checked`)
    for (const r of c.rules) {
      if (r.passed === true) continue
      out.push(`  ${r.passed === null ? 'not checked' : 'FAIL'}  ${r.rule}${r.value === null ? '' : ` (value ${r.value})`}${r.message ? `: ${r.message}` : ''}`)
    }
  }
  if (result.contracts.length > 0) out.push('')
  if (result.error) out.push(`failed: ${result.error.message}`)
  out.push(result.published ? `run ${result.run}: published` : `run ${result.run}: nothing published, every state is as it was`)
  return out.join('\n')
}
