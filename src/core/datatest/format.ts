import {xml} from '../validate/report/junit.js'
import type {DataTestResult, DataTestsResult} from './result-schema.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** Why a test failed, as indented lines: its error, or each failing state's counts and diff. */
function failureLines(t: DataTestResult): string[] {
  if (t.error) return [t.error]
  return t.states
    .filter((s) => !s.passed)
    .flatMap((s) => [
      s.error ?? `${s.state}: ${[s.missing && `${s.missing} missing`, s.unexpected && `${s.unexpected} unexpected`, s.changed && `${s.changed} changed`].filter(Boolean).join(', ')} (expected ${plural(s.expectedRows, 'row')}, got ${s.actualRows}; ${s.file})`,
      ...s.diff,
    ])
}

/** The text report: a line per test, the diff of each failure, and the totals. */
export function formatDataTests(result: DataTestsResult): string {
  const lines: string[] = []
  for (const t of result.tests) {
    const rows = t.states.reduce((n, s) => n + s.expectedRows, 0)
    lines.push(`${t.passed ? '✔' : '✘'} ${t.name}  ${t.passed ? `${plural(t.states.length, 'state')}, ${plural(rows, 'row')} as expected  ` : ''}${t.ms} ms`)
    if (!t.passed) for (const l of failureLines(t)) lines.push(`    ${l}`)
  }
  lines.push('', `data tests: ${result.passed} passed, ${result.failed} failed`)
  return lines.join('\n')
}

/** JUnit XML: one testsuite, one testcase per data test, the diff in a failure's body. */
export function formatDataTestsJunit(result: DataTestsResult): string {
  const cases = result.tests.map((t) => {
    const head = `    <testcase classname="dappmesh.test" name="${xml(t.name)}" file="tests/${xml(t.name)}" time="${(t.ms / 1000).toFixed(3)}"`
    if (t.passed) return `${head}/>`
    const lines = failureLines(t)
    return `${head}><failure type="${t.error ? 'error' : 'difference'}" message="${xml(lines[0] ?? 'failed')}">${xml(lines.join('\n'))}</failure></testcase>`
  })
  const time = (result.tests.reduce((n, t) => n + t.ms, 0) / 1000).toFixed(3)
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="dappmesh test" tests="${result.tests.length}" failures="${result.failed}">\n  <testsuite name="dappmesh test" tests="${result.tests.length}" failures="${result.failed}" errors="0" time="${time}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>`
}
